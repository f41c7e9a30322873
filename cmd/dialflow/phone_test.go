package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip"
	"github.com/go-audio/wav"
)

// syncBuf is a goroutine-safe bytes.Buffer.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestPhoneCommandAnswersSendsDTMFAndHangsUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuf
	rec := filepath.Join(t.TempDir(), "heard.wav")
	errc := make(chan error, 1)
	go func() {
		errc <- runPhone(ctx, []string{"--listen", "127.0.0.1:0", "--answer-after", "100ms",
			"--dtmf", "200ms:4,500ms:2", "--dtmf-method", "info", "--hangup-after", "1500ms", "--record", rec}, &stdout, &stderr)
	}()
	re := regexp.MustCompile(`listening on udp (\S+) `)
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("phone never said where it listens: %s", stderr.String())
	}
	u, err := sip.NewUA(sip.Config{Listen: "127.0.0.1:0", Trunk: "sip:" + addr})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	c, err := u.Dial(dctx, sip.DialRequest{To: "+15551230000"})
	if err != nil {
		t.Fatal(err)
	}
	m := c.Media().(*sip.StreamMedia).Stream()
	go m.Play(dctx, make([]int16, 8000)) // one second of audio for the recording
	var keys string
	for len(keys) < 2 {
		select {
		case d := <-m.Digits():
			keys += string(d.Key)
		case <-dctx.Done():
			t.Fatalf("keys %q; phone said %s", keys, stdout.String())
		}
	}
	select {
	case <-c.Done():
	case <-dctx.Done():
		t.Fatal("phone never hung up")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("phone: %v", err)
	}
	if keys != "42" || c.HangupBy() != sip.ByCallee {
		t.Errorf("keys %q hangup by %q", keys, c.HangupBy())
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var e struct {
			Event, CallID string
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		if e.CallID != c.ID {
			t.Errorf("event for call %q, want %q", e.CallID, c.ID)
		}
		types = append(types, e.Event)
	}
	if got := strings.Join(types, ","); got != "invite,ringing,answered,dtmf_sent,dtmf_sent,bye" {
		t.Errorf("events %s", got)
	}
	f, err := os.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	buf, err := d.FullPCMBuffer()
	if err != nil || d.SampleRate != 8000 || d.NumChans != 1 || len(buf.Data) < 4000 {
		t.Errorf("recording: err %v rate %d chans %d samples %d", err, d.SampleRate, d.NumChans, len(buf.Data))
	}
}

func TestPhoneCommandBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--reject", "maybe"}, {"--dtmf", "soon:1"}, {"--dtmf", "1s:x"}, {"--dtmf-method", "smoke"},
		{"--user", "a"}, {"--no-answer", "--reject", "busy"}, {"--bogus"}, {"extra"},
	} {
		var out, errb bytes.Buffer
		err := runPhone(context.Background(), args, &out, &errb)
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: err %v, want usage", args, err)
		}
	}
}
