// Package sipptest runs sipp (Debian package sip-tester) as a foreign SIP
// far end for tests: it picks free loopback ports, substitutes the shipped
// pcap directory into a scenario, waits until sipp listens, and kills it on
// cleanup. Tests skip loudly when sipp is not installed.
package sipptest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// PcapDir is where sip-tester installs its RTP pcaps (dtmf_2833_*.pcap);
// scenarios name it PCAPDIR.
const PcapDir = "/usr/share/sip-tester"

// Run is one sipp UAS process playing a scenario from testdata/sipp.
type Run struct {
	// Addr is sipp's SIP address, host:port.
	Addr string
	cmd  *exec.Cmd
	// Out holds sipp's output.
	Out  *bytes.Buffer
	done chan error
}

func freePort(t testing.TB) int {
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

// Start starts sipp playing scenarioFile on free loopback ports (sipp needs explicit ports:
// pick one, and retry with another if sipp fails to bind it) and waits until
// its SIP socket is bound. It is killed on cleanup.
func Start(t testing.TB, scenarioFile string) *Run {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: sipp (Debian package sip-tester) is not installed and could not be installed; " +
			"run `make deps` or `apt-get install sip-tester` to run the sipp interoperability tests")
	}
	// sipp loads pcaps when it reads the scenario and does not expand
	// variables there: write a copy naming the installed pcap directory.
	tmpl, err := os.ReadFile(scenarioFile)
	if err != nil {
		t.Fatal(err)
	}
	sf := filepath.Join(t.TempDir(), filepath.Base(scenarioFile))
	if err := os.WriteFile(sf, bytes.ReplaceAll(tmpl, []byte("PCAPDIR"), []byte(PcapDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 5; attempt++ {
		port, mport := freePort(t), freePort(t)&^1
		r := &Run{Addr: fmt.Sprintf("127.0.0.1:%d", port), Out: &bytes.Buffer{}, done: make(chan error, 1)}
		r.cmd = exec.Command(bin, "-sf", sf, "-i", "127.0.0.1", "-p", fmt.Sprint(port),
			"-mi", "127.0.0.1", "-mp", fmt.Sprint(mport), "-m", "1", "-nostdin",
			"-timeout", "20s", "-timeout_error")
		r.cmd.Dir = t.TempDir()
		r.cmd.Stdout, r.cmd.Stderr = r.Out, r.Out
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
		t.Logf("sipp did not start on port %d (attempt %d): %s", port, attempt+1, r.Out.String())
	}
	t.Fatal("sipp never started")
	return nil
}

// Wait returns sipp's exit error once it exits (nil: "Successful call").
func (r *Run) Wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(d):
		return errors.New("sipp still running")
	}
}
