package sip_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/sip"
)

const sippPcapDir = "/usr/share/sip-tester"

// sippRun is one sipp UAS process playing a scenario from testdata/sipp.
type sippRun struct {
	addr string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// udpBound reports whether /proc/net/udp lists 127.0.0.1:port.
func udpBound(port int) (bool, error) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return false, err
	}
	return bytes.Contains(b, []byte(fmt.Sprintf("0100007F:%04X", port))), nil
}

// startSipp starts sipp on free loopback ports (sipp needs explicit ports:
// pick one, and retry with another if sipp fails to bind it) and waits until
// its SIP socket is bound. It is killed on cleanup.
func startSipp(t *testing.T, scenario string) *sippRun {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: sipp (Debian package sip-tester) is not installed and could not be installed; " +
			"run `make deps` or `apt-get install sip-tester` to run the sipp interoperability tests")
	}
	// sipp loads pcaps when it reads the scenario and does not expand
	// variables there: write a copy naming the installed pcap directory.
	tmpl, err := os.ReadFile(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	sf := filepath.Join(t.TempDir(), scenario)
	if err := os.WriteFile(sf, bytes.ReplaceAll(tmpl, []byte("PCAPDIR"), []byte(sippPcapDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 5; attempt++ {
		port, mport := freePort(t), freePort(t)&^1
		r := &sippRun{addr: fmt.Sprintf("127.0.0.1:%d", port), out: &bytes.Buffer{}, done: make(chan error, 1)}
		r.cmd = exec.Command(bin, "-sf", sf, "-i", "127.0.0.1", "-p", fmt.Sprint(port),
			"-mi", "127.0.0.1", "-mp", fmt.Sprint(mport), "-m", "1", "-nostdin",
			"-timeout", "20s", "-timeout_error")
		r.cmd.Dir = t.TempDir()
		r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatalf("start sipp: %v", err)
		}
		go func() { r.done <- r.cmd.Wait() }()
		ready := false
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			ok, err := udpBound(port)
			if err != nil { // no /proc: give sipp a moment instead
				time.Sleep(500 * time.Millisecond)
				ok = true
			}
			if ok {
				ready = true
				break
			}
			select {
			case err := <-r.done:
				r.done <- err
				deadline = time.Now()
			case <-time.After(10 * time.Millisecond):
			}
		}
		if ready {
			t.Cleanup(func() {
				if r.cmd.ProcessState == nil {
					_ = r.cmd.Process.Kill()
				}
				select {
				case <-r.done:
				case <-time.After(5 * time.Second):
				}
			})
			return r
		}
		_ = r.cmd.Process.Kill()
		<-r.done
		t.Logf("sipp did not start on port %d (attempt %d): %s", port, attempt+1, r.out.String())
	}
	t.Fatal("sipp never started")
	return nil
}

// wait returns sipp's exit error once it exits (nil: "Successful call").
func (r *sippRun) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(d):
		return errors.New("sipp still running")
	}
}

func TestSippAnswerAndRFC4733(t *testing.T) {
	r := startSipp(t, "uas_dtmf.xml")
	u := newUA(t, sip.Config{Trunk: "sip:" + r.addr})
	ctx := ctxT(t, 20*time.Second)
	c, err := u.Dial(ctx, sip.DialRequest{To: "+15551230000", RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("dial sipp: %v\n%s", err, r.out)
	}
	m := c.Media().(*sip.RTPMedia)
	var got strings.Builder
	for got.Len() < 3 {
		select {
		case d := <-m.Digits():
			if d.Method != sip.DigitRFC4733 {
				t.Errorf("digit %c by %s", d.Key, d.Method)
			}
			got.WriteByte(d.Key)
		case <-ctx.Done():
			t.Fatalf("digits so far %q", got.String())
		}
	}
	if got.String() != "12#" {
		t.Errorf("digits %q, want 12#", got.String())
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(t, 10*time.Second); err != nil {
		t.Errorf("sipp: %v\n%s", err, r.out)
	}
}

func TestSippBusy(t *testing.T) {
	r := startSipp(t, "uas_486.xml")
	u := newUA(t, sip.Config{Trunk: "sip:" + r.addr})
	_, err := u.Dial(ctxT(t, 10*time.Second), sip.DialRequest{To: "+15551230000", RingTimeout: 5 * time.Second})
	if ce := callErr(t, err); ce.SIPStatus() != 486 || ce.Outcome() != sip.OutcomeBusy {
		t.Errorf("err %v", err)
	}
	if err := r.wait(t, 10*time.Second); err != nil {
		t.Errorf("sipp: %v\n%s", err, r.out)
	}
}

func TestSippNoAnswerCancel(t *testing.T) {
	r := startSipp(t, "uas_noanswer.xml")
	u := newUA(t, sip.Config{Trunk: "sip:" + r.addr})
	_, err := u.Dial(ctxT(t, 10*time.Second), sip.DialRequest{To: "+15551230000", RingTimeout: 500 * time.Millisecond})
	if ce := callErr(t, err); ce.Outcome() != sip.OutcomeNoAnswer || !errors.Is(err, sip.ErrRingTimeout) {
		t.Errorf("err %v", err)
	}
	if err := r.wait(t, 10*time.Second); err != nil {
		t.Errorf("sipp (expects CANCEL, 200, 487, ACK): %v\n%s", err, r.out)
	}
}
