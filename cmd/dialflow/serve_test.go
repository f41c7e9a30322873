package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/media/mediatest"
	"github.com/dialflow/dialflow/sip/siptest"
	"github.com/dialflow/dialflow/tts/ttstest"
)

// testServer runs a whole dialflow (real SQLite, SIP on loopback, the tone
// TTS engine) whose trunk is the given simulated phone.
type testServer struct {
	t    *testing.T
	url  string
	srv  *server
	data string
}

func startTestServer(t *testing.T, trunk string, mutate func(*serveConfig)) *testServer {
	t.Helper()
	cfg := defaultServeConfig()
	cfg.Data = t.TempDir()
	cfg.SIPListen = "127.0.0.1:0"
	cfg.RTPPorts = "0"
	cfg.TTS = "tones"
	cfg.Trunk = trunk
	cfg.APIKeys = []string{"key-a"}
	cfg.Drain = 2 * time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := startServer(context.Background(), cfg, log, l)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, url: "http://" + s.httpAddr.String(), srv: s, data: cfg.Data}
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return ts
}

func (ts *testServer) do(method, path string, body []byte, out any) int {
	ts.t.Helper()
	req, _ := http.NewRequest(method, ts.url+path, bytes.NewReader(body))
	req.Header.Set("x-credential-api-key", "key-a")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			ts.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// waitStatus polls GET /status until the request reaches want.
func (ts *testServer) waitStatus(id, want string, limit time.Duration) dialer.RequestStatus {
	ts.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var st dialer.RequestStatus
		if code := ts.do("GET", "/status/"+id, nil, &st); code != 200 {
			ts.t.Fatalf("status %d", code)
		}
		if st.Status == want {
			return st
		}
		if time.Now().After(deadline) {
			js, _ := json.MarshalIndent(st, "", " ")
			ts.t.Fatalf("request %s is %s after %s, want %s:\n%s", id, st.Status, limit, want, js)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func stepsOf(d dialer.Detail) []string {
	var out []string
	for _, s := range d.CallFlowSteps {
		line := s.StepPath + " " + s.StepName + " " + s.Info.Status
		if s.Info.UserPressedDigits != "" {
			line += " " + s.Info.UserPressedDigits
		}
		if s.Info.TransferStatus != "" {
			line += " transfer=" + s.Info.TransferStatus
		}
		out = append(out, line)
	}
	return out
}

// TestSeedExampleEndToEnd runs the seed's request against two simulated
// phones over real SIP and RTP: one presses 1 then a key at the nested
// menu, the other presses 0 and is transferred.
func TestSeedExampleEndToEnd(t *testing.T) {
	dir := t.TempDir()
	scripts := map[string]siptest.CallScript{
		// In-band tones: the callee's side of the recording carries sound.
		"84917660247": {AnswerAfter: 300 * time.Millisecond, DTMF: []siptest.DTMFStep{{At: 2 * time.Second, Keys: "1"}, {At: 3500 * time.Millisecond, Keys: "5"}},
			DTMFMethod: "inband", Record: filepath.Join(dir, "one.wav")},
		"84912860330": {AnswerAfter: 300 * time.Millisecond, DTMF: []siptest.DTMFStep{{At: 2 * time.Second, Keys: "0"}},
			Record: filepath.Join(dir, "zero.wav")},
	}
	phone, err := siptest.NewPhone(siptest.PhoneConfig{Decide: func(inv siptest.InviteInfo) siptest.CallScript {
		return scripts[number(inv.User)]
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	ts := startTestServer(t, phone.TrunkURI(), nil)
	body, err := os.ReadFile("../../examples/payment-reminder/request.json")
	if err != nil {
		t.Fatal(err)
	}
	var sub dialer.RequestStatus
	if code := ts.do("POST", "/call", body, &sub); code != 200 || sub.Status != "submitted" {
		t.Fatalf("submit: %d %+v", code, sub)
	}
	st := ts.waitStatus("request_10", "completed", 40*time.Second)
	one, zero := st.Details[0], st.Details[1]
	want1 := []string{
		"steps[0] play success_ok",
		"steps[1] gather success_ok 1",
		"steps[1].branches[0].steps[0] gather success_ok 5",
		"steps[1].branches[0].steps[0].branches[0].steps[0] play success_ok",
	}
	if got := stepsOf(one); !reflect.DeepEqual(got, want1) {
		t.Errorf("pressed 1: steps\n%q\nwant\n%q", got, want1)
	}
	want0 := []string{"steps[0] play success_ok", "steps[1] gather success_ok 0", "steps[1].branches[1].steps[0] transfer success_ok transfer=answered"}
	if got := stepsOf(zero); !reflect.DeepEqual(got, want0) {
		t.Errorf("pressed 0: steps\n%q\nwant\n%q", got, want0)
	}
	for _, d := range st.Details {
		if d.Status != "completed" || d.CallState != "ended" || d.CallStatus != "answered" || d.SIPCode != 200 || d.Attempts != 1 {
			t.Errorf("%s: %s %s %s sip %d attempts %d", d.Destination, d.Status, d.CallState, d.CallStatus, d.SIPCode, d.Attempts)
		}
	}
	if g := one.CallFlowSteps[1].Info.Digits; len(g) != 1 || g[0].Method != "inband" {
		t.Errorf("digit method not recorded: %+v", g)
	}
	if g := zero.CallFlowSteps[1].Info.Digits; len(g) != 1 || g[0].Method != "rfc4733" {
		t.Errorf("digit method not recorded: %+v", g)
	}
	if len(zero.MonitorData) != 2 || zero.MonitorData[1].Type != "transfer" || zero.MonitorData[1].Dest != "+84912860330 1000" {
		t.Errorf("monitor data %+v", zero.MonitorData)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ev, err := phone.WaitType(wctx, siptest.EventRefer, ""); err != nil || !strings.Contains(ev.Target, "1000@") {
		t.Errorf("phone saw refer %+v %v", ev, err)
	}
	// What the phone heard: the prompts, in order, told apart by their
	// tone signatures after crossing G.711 RTP.
	prompts := []string{"thanks Alex", "Dear Mr Alex, the amount of 200,000$ will be due on August 20th, 2020",
		"message need to play", "msg need to play"}
	heard := func(p string) []string {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pcm, err := media.LoadWAV(f)
		if err != nil {
			t.Fatal(err)
		}
		return ttstest.Identify(pcm, prompts)
	}
	waitFile := func(p string) {
		for i := 0; i < 50; i++ {
			if fi, err := os.Stat(p); err == nil && fi.Size() > 44 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFile(scripts["84917660247"].Record)
	if got := heard(scripts["84917660247"].Record); !reflect.DeepEqual(got, prompts) {
		t.Errorf("phone 1 heard %q, want %q", got, prompts)
	}
	waitFile(scripts["84912860330"].Record)
	if got := heard(scripts["84912860330"].Record); !reflect.DeepEqual(got, prompts[:2]) {
		t.Errorf("phone 0 heard %q, want %q", got, prompts[:2])
	}

	// dialflow's own recording, fetched through the API: stereo, the
	// callee's in-band keys on the left, our prompts on the right.
	if one.RecordingURL == "" {
		t.Fatal("no recordingUrl for a recorded call")
	}
	req, _ := http.NewRequest("GET", ts.url+one.RecordingURL, nil)
	req.Header.Set("x-credential-api-key", "key-a")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("recording: %d %s", resp.StatusCode, wav)
	}
	left, right, rate, err := mediatest.ReadStereoWAV(bytes.NewReader(wav))
	if err != nil || rate != 8000 {
		t.Fatalf("recording is not an 8 kHz stereo WAV: %v (rate %d)", err, rate)
	}
	if e := media.Energy(left); e < 1e-4 {
		t.Errorf("left (callee) channel is silent: energy %g", e)
	}
	if lvl := peakLevel(left, 697); lvl < -30 {
		t.Errorf("left channel lacks the in-band key 1 (697 Hz at %.1f dBFS)", lvl)
	}
	if got := ttstest.Identify(right, prompts); !reflect.DeepEqual(got, prompts) {
		t.Errorf("right (played) channel holds %q, want %q", got, prompts)
	}
}

// peakLevel is the highest level of freq over 40 ms windows of pcm, in dBFS.
func peakLevel(pcm []int16, freq float64) float64 {
	best := math.Inf(-1)
	for off := 0; off+320 <= len(pcm); off += 160 {
		best = max(best, mediatest.LevelDB(pcm[off:off+320], freq))
	}
	return best
}
