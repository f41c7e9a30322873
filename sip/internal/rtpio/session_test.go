package rtpio

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type digits struct {
	mu  sync.Mutex
	got []string
	ch  chan struct{}
}

func (d *digits) add(k byte, method string) {
	d.mu.Lock()
	d.got = append(d.got, string(k)+":"+method)
	d.mu.Unlock()
	d.ch <- struct{}{}
}

func pair(t *testing.T, codec uint8, dtmf int, onDigit func(byte, string)) (a, b *Session) {
	t.Helper()
	lo := netip.MustParseAddr("127.0.0.1")
	ca, err := Listen(lo, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Listen(lo, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	a = Start(Config{Conn: ca, Remote: cb.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort(), Codec: codec, DTMF: dtmf})
	b = Start(Config{Conn: cb, Remote: ca.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort(), Codec: codec, DTMF: dtmf, OnDigit: onDigit})
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestDigitsCrossBothWays(t *testing.T) {
	for _, c := range []struct {
		name   string
		codec  uint8
		inband bool
		method string
	}{{"rfc4733 pcmu", 0, false, MethodRFC4733}, {"inband pcmu", 0, true, MethodInband}, {"inband pcma", 8, true, MethodInband}} {
		t.Run(c.name, func(t *testing.T) {
			d := &digits{ch: make(chan struct{}, 16)}
			a, _ := pair(t, c.codec, 101, d.add)
			for _, k := range []byte("1#9") {
				if _, err := a.SendDigit(k, 100*time.Millisecond, c.inband); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 3; i++ {
				select {
				case <-d.ch:
				case <-time.After(5 * time.Second):
					t.Fatalf("only %v arrived", d.got)
				}
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			want := []string{"1:" + c.method, "#:" + c.method, "9:" + c.method}
			if len(d.got) != 3 || d.got[0] != want[0] || d.got[1] != want[1] || d.got[2] != want[2] {
				t.Errorf("got %v, want %v", d.got, want)
			}
		})
	}
}

func TestSilenceHasNoDigits(t *testing.T) {
	d := &digits{ch: make(chan struct{}, 16)}
	a, b := pair(t, 0, 101, d.add)
	done, err := a.Play(make([]int16, 8000/2))
	if err != nil {
		t.Fatal(err)
	}
	<-done
	if b.Stats().Received < 20 {
		t.Errorf("received %d packets in 0.5 s of audio", b.Stats().Received)
	}
	if len(d.ch) != 0 {
		t.Errorf("digits detected in silence: %v", d.got)
	}
}

func TestBadKeyAndNoTelephoneEvent(t *testing.T) {
	a, _ := pair(t, 0, -1, nil)
	if _, err := a.SendDigit('x', Frame, false); err == nil {
		t.Error("x accepted as a key")
	}
	if _, err := a.SendDigit('1', Frame, false); err == nil {
		t.Error("rfc4733 sent without a negotiated payload type")
	}
}
