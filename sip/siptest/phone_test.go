package siptest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip"
	"github.com/dialflow/dialflow/sip/siptest"
	sipmsg "github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Shorter sipgo timers (process-global) so unanswered transactions end
	// quickly; set once here, never by library code.
	sipmsg.SetTimers(50*time.Millisecond, 200*time.Millisecond, 250*time.Millisecond)
	goleak.VerifyTestMain(m)
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func TestConcurrentCallsPeakAndEvents(t *testing.T) {
	const calls = 30
	var out lockedBuf
	p, err := siptest.NewPhone(siptest.PhoneConfig{Events: &out, Script: siptest.CallScript{
		AnswerAfter: 300 * time.Millisecond, HangupAfter: 700 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	u, err := sip.NewUA(sip.Config{Listen: "127.0.0.1:0", Trunk: p.TrunkURI()})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000", RingTimeout: 10 * time.Second})
			if err != nil {
				errs <- err
				return
			}
			select {
			case <-c.Done():
			case <-ctx.Done():
				errs <- ctx.Err()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p.Total() != calls || p.Peak() != calls {
		t.Errorf("total %d peak %d, want %d and %d", p.Total(), p.Peak(), calls, calls)
	}
	for deadline := time.Now().Add(3 * time.Second); p.Active() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Active() != 0 {
		t.Errorf("%d calls still active", p.Active())
	}
	// Active drops when a call ends in SIP terms; its bye event is written
	// just after, so wait for the events themselves.
	var counts map[string]int
	for deadline := time.Now().Add(3 * time.Second); ; {
		counts = map[string]int{}
		out.mu.Lock()
		lines := strings.Split(strings.TrimSpace(out.b.String()), "\n")
		out.mu.Unlock()
		for _, l := range lines {
			var e siptest.Event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("bad JSON line %q: %v", l, err)
			}
			counts[e.Type]++
		}
		if counts[siptest.EventBye] == calls || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, typ := range []string{siptest.EventInvite, siptest.EventRinging, siptest.EventAnswered, siptest.EventBye} {
		if counts[typ] != calls {
			t.Errorf("%d %s events, want %d (all: %v)", counts[typ], typ, calls, counts)
		}
	}
}

func TestDecideByDialedNumber(t *testing.T) {
	p, err := siptest.NewPhone(siptest.PhoneConfig{Decide: func(inv siptest.InviteInfo) siptest.CallScript {
		if strings.HasSuffix(inv.User, "486") {
			return siptest.CallScript{Reject: siptest.RejectBusy}
		}
		return siptest.CallScript{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	u, err := sip.NewUA(sip.Config{Listen: "127.0.0.1:0", Trunk: p.TrunkURI()})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := u.Dial(ctx, sip.DialRequest{To: "+1555000486"}); err == nil || !strings.Contains(err.Error(), "486") {
		t.Errorf("number ending 486: %v", err)
	}
	c, err := u.Dial(ctx, sip.DialRequest{To: "+1555000200"})
	if err != nil {
		t.Fatal(err)
	}
	c.Hangup(ctx)
}

func TestCloseEndsLiveCalls(t *testing.T) {
	p, err := siptest.NewPhone(siptest.PhoneConfig{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := sip.NewUA(sip.Config{Listen: "127.0.0.1:0", Trunk: p.TrunkURI()})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000"})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	select {
	case <-c.Done():
		if c.HangupBy() != sip.ByCallee {
			t.Errorf("hangup by %q", c.HangupBy())
		}
	case <-ctx.Done():
		t.Fatal("closing the phone did not hang up its call")
	}
}

func TestParseDTMFScript(t *testing.T) {
	steps, err := siptest.ParseDTMFScript(" 2s:1, 5s:0# ,100ms:a")
	if err != nil || len(steps) != 3 || steps[0].At != 2*time.Second || steps[1].Keys != "0#" || steps[2].Keys != "A" {
		t.Fatalf("steps %+v err %v", steps, err)
	}
	for _, bad := range []string{"1", "x:1", "-1s:1", "1s:", "1s:Z"} {
		if _, err := siptest.ParseDTMFScript(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseDTMFScript(f *testing.F) {
	f.Add("2s:1,5s:0")
	f.Add("100ms:*#ABCD")
	f.Add(",,:")
	f.Fuzz(func(t *testing.T, s string) {
		steps, err := siptest.ParseDTMFScript(s)
		if err != nil {
			return
		}
		for _, st := range steps {
			if st.At < 0 || st.Keys == "" {
				t.Fatalf("bad step %+v", st)
			}
		}
	})
}
