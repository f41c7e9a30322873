package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/sip/siptest"
)

// buildBinary compiles dialflow once per test run.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dialflow-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dialflow")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a dialflow serve process.
type proc struct {
	cmd  *exec.Cmd
	url  string
	key  string
	done chan struct{}
}

// startProc runs `dialflow serve` with args and waits until it serves HTTP.
func startProc(t *testing.T, key string, args ...string) *proc {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, append([]string{"serve", "--http", addr, "--sip-listen", "127.0.0.1:0", "--rtp-ports", "0"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, url: "http://" + addr, key: key, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if testing.Verbose() {
				t.Log(sc.Text())
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dialflow did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) do(t *testing.T, method, path string, body []byte, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, p.url+path, strings.NewReader(string(body)))
	req.Header.Set("x-credential-api-key", p.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, data)
		}
	}
	return resp.StatusCode
}

func (p *proc) wait(t *testing.T, id string, limit time.Duration) dialer.RequestStatus {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var st dialer.RequestStatus
		p.do(t, "GET", "/status/"+id, nil, &st)
		if st.Status == "completed" {
			return st
		}
		if time.Now().After(deadline) {
			js, _ := json.MarshalIndent(st, "", " ")
			t.Fatalf("request %s not completed after %s:\n%s", id, limit, js)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestMakeRunDemo does what the README tells a newcomer: `dialflow serve
// --demo`, then POST the example with the key "demo" until it completes.
func TestMakeRunDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("SKIPPING LOUDLY: espeak-ng is not installed; make test installs it")
	}
	// The default engine, espeak-ng, exactly as `make run` starts it.
	p := startProc(t, "demo", "--demo", "--data", t.TempDir())
	body, err := os.ReadFile("../../examples/payment-reminder/request.json")
	if err != nil {
		t.Fatal(err)
	}
	if code := p.do(t, "POST", "/call", body, nil); code != 200 {
		t.Fatalf("POST /call: %d", code)
	}
	st := p.wait(t, "request_10", 90*time.Second)
	for _, d := range st.Details {
		if d.Status != "completed" || len(d.CallFlowSteps) == 0 {
			t.Errorf("%s: %s with %d steps", d.Destination, d.Status, len(d.CallFlowSteps))
		}
	}
}

// TestKilledMidCampaign SIGKILLs a serving dialflow in the middle of a
// campaign and starts it again on the same data: every destination ends in
// a final state, results stored before the kill survive, and no number is
// ever in two calls at once.
func TestKilledMidCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	var mu sync.Mutex
	live := map[string]int{}
	overlap := 0
	phone, err := siptest.NewPhone(siptest.PhoneConfig{Script: siptest.CallScript{AnswerAfter: 100 * time.Millisecond, HangupAfter: 1500 * time.Millisecond},
		OnEvent: func(e siptest.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Type {
			case siptest.EventInvite:
				n := 0
				for id := range live {
					if strings.HasPrefix(id, "n:"+e.To+":") {
						n++
					}
				}
				if n > 0 {
					overlap++
				}
				live["n:"+e.To+":"+e.CallID] = 1
			case siptest.EventBye, siptest.EventCancelled, siptest.EventRejected:
				for id := range live {
					if strings.HasSuffix(id, ":"+e.CallID) {
						delete(live, id)
					}
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	data := t.TempDir()
	args := []string{"--trunk", phone.TrunkURI(), "--api-key", "k", "--capacity", "3", "--data", data, "--tts", "tones"}
	p := startProc(t, "k", args...)
	var nums []string
	for i := 0; i < 12; i++ {
		nums = append(nums, fmt.Sprintf("+1555002%04d", i))
	}
	body := request("campaign", `{"steps":[{"name":"play","message":{"msg":"hello"}},{"name":"pause","seconds":5}]}`, "", nums...)
	if code := p.do(t, "POST", "/call", body, nil); code != 200 {
		t.Fatalf("POST /call: %d", code)
	}
	// Let some calls finish and others be live, then kill.
	deadline := time.Now().Add(30 * time.Second)
	var before dialer.RequestStatus
	for {
		p.do(t, "GET", "/status/campaign", nil, &before)
		done := 0
		for _, d := range before.Details {
			if d.Status == "completed" {
				done++
			}
		}
		if done >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p2 := startProc(t, "k", args...)
	st := p2.wait(t, "campaign", 90*time.Second)
	restarted := 0
	for i, d := range st.Details {
		switch {
		case d.Status == "completed":
		case d.Status == "failed" && d.HangupCause == "engine_restart":
			restarted++
		default:
			t.Errorf("%s ended %s / %s", d.Destination, d.Status, d.HangupCause)
		}
		if b := before.Details[i]; b.Status == "completed" {
			if d.Status != "completed" || len(d.CallFlowSteps) != len(b.CallFlowSteps) || d.Attempts != b.Attempts {
				t.Errorf("%s: completed before the kill with %d steps, now %s with %d steps", d.Destination, len(b.CallFlowSteps), d.Status, len(d.CallFlowSteps))
			}
		}
	}
	if restarted == 0 {
		t.Log("no call was live at the kill (timing); the restart path was not exercised this run")
	}
	mu.Lock()
	defer mu.Unlock()
	if overlap > 0 {
		t.Errorf("%d calls reached a number that was already in a call", overlap)
	}
}
