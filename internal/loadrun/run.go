// Package loadrun drives a load run: it starts `dialflow phone --load` and
// `dialflow serve` as separate processes on loopback, submits one request
// with N destinations through POST /call, and measures what happens: CPU
// and memory of dialflow while all N calls are up, the far end's view of
// the RTP (lateness, loss, answer to first audio), digits detected, setup
// rate and errors.
package loadrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/dialflow/dialflow/internal/loadphone"
)

// Prompt is the load run's 20-second prompt (espeak-ng, default voice).
const Prompt = "Hello, this is a reminder from your energy provider about the invoice issued on the first of this month. " +
	"The amount due is one hundred and twenty four dollars and fifty cents, and the payment date is the fifteenth. " +
	"If you would like to pay now by card, or to speak with one of our agents about a payment plan, " +
	"please stay on the line and listen to the following options carefully."

// Config configures a run.
type Config struct {
	// Bin is the dialflow binary that serves.
	Bin string
	// PhoneBin is the dialflow binary that runs the load phone; empty
	// means Bin (set it to measure an older Bin).
	PhoneBin string
	// Calls lists the concurrency levels, run in order.
	Calls []int
	// Loss is the far end's deliberate loss of its own packets (0..1).
	Loss float64
	// Audio makes the far end send silence every 20 ms (a handset without
	// VAD); otherwise it sends only its press.
	Audio bool
	// CPS caps dialflow's call attempts per second (0: no cap).
	CPS float64
	// Record asks dialflow to record every call (enableCallRecording).
	Record bool
	// Prompt is the gather prompt; empty means the 20-second Prompt.
	Prompt string
	// DigitAfter is when the far end presses 1 after the answer; zero
	// means 21 s (after the 20-second prompt).
	DigitAfter time.Duration
	// TTS is dialflow's engine ("espeak" or "tones").
	TTS string
	// Window is how long CPU is measured while all calls are up.
	Window time.Duration
	// ProfileDir, when set, receives a CPU profile of dialflow taken over
	// the window of each level.
	ProfileDir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Row is the result of one concurrency level.
type Row struct {
	Calls int `json:"calls"`
	// Concurrent is the most calls up at once; AllUp whether all were.
	Concurrent int  `json:"concurrent"`
	AllUp      bool `json:"allUp"`
	// Cores is dialflow's CPU (user+sys) over the window, in cores;
	// CPUPerCall the same per concurrent call, in milli-cores.
	Cores      float64 `json:"cores"`
	CPUPerCall float64 `json:"cpuPerCallMilli"`
	// RSS is dialflow's resident memory during the window; RSSPerCall the
	// growth over the idle process, per call.
	RSS        int64   `json:"rssBytes"`
	RSSPerCall int64   `json:"rssPerCallBytes"`
	PhoneCores float64 `json:"phoneCores"`
	// Completed counts destinations whose flow completed; Digits those
	// whose gather took the far end's key.
	Completed int `json:"completed"`
	Digits    int `json:"digitsDetected"`
	// Errors counts destinations that did not complete.
	Errors int `json:"errors"`
	// KernelDrops counts UDP packets the kernel dropped on full sockets
	// during the level (system-wide).
	KernelDrops int64            `json:"kernelDrops"`
	Phone       loadphone.Report `json:"phone"`
	Wall        time.Duration    `json:"wall"`
}

// Broken reports whether the level failed the targets badly enough that
// higher levels are pointless.
func (r Row) Broken() bool {
	return !r.AllUp || r.Errors*100 > r.Calls || r.Phone.Lateness.P99 > 50
}

// Run runs every level in order and stops after the first broken one.
func Run(ctx context.Context, cfg Config) ([]Row, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Window <= 0 {
		cfg.Window = 8 * time.Second
	}
	if cfg.TTS == "" {
		cfg.TTS = "espeak"
	}
	if cfg.PhoneBin == "" {
		cfg.PhoneBin = cfg.Bin
	}
	if cfg.Prompt == "" {
		cfg.Prompt = Prompt
	}
	if cfg.DigitAfter <= 0 {
		cfg.DigitAfter = 21 * time.Second
	}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
	}
	var rows []Row
	for _, n := range cfg.Calls {
		r, err := runLevel(ctx, cfg, n)
		if err != nil {
			return rows, fmt.Errorf("%d calls: %w", n, err)
		}
		rows = append(rows, r)
		fmt.Fprintf(cfg.Log, "loadrun: %d calls: %.2f cores, lateness p99 %.2f ms, lost %d, digits %d/%d, errors %d\n",
			n, r.Cores, r.Phone.Lateness.P99, r.Phone.FramesLost, r.Digits, r.Phone.DigitsSent, r.Errors)
		if r.Broken() {
			fmt.Fprintf(cfg.Log, "loadrun: %d calls broke the targets; stopping\n", n)
			break
		}
	}
	return rows, nil
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error
}

func start(ctx context.Context, bin string, stdout io.Writer, stderr io.Writer, args ...string) (*proc, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) stop(sig os.Signal, wait time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(wait):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return p.err
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func runLevel(ctx context.Context, cfg Config, n int) (Row, error) {
	row := Row{Calls: n}
	began := time.Now()
	dir, err := os.MkdirTemp("", "dialflow-load-")
	if err != nil {
		return row, err
	}
	if os.Getenv("LOADRUN_KEEP") == "" {
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	// The far end.
	pr, pw := io.Pipe()
	phoneLog, err := os.Create(filepath.Join(dir, "phone.log"))
	if err != nil {
		return row, err
	}
	defer phoneLog.Close()
	// The far end stands in for other machines: it runs at the lowest
	// priority so that it takes only the CPU dialflow leaves (its kernel
	// receive timestamps are taken when dialflow sends, so a busy phone
	// does not colour the lateness).
	phone, err := start(ctx, "nice", pw, phoneLog, "-n", "19", cfg.PhoneBin, "phone", "--load", "--listen", "127.0.0.1:0",
		"--answer-after", "500ms", "--load-digit", "1:"+cfg.DigitAfter.String(), "--hangup-after", "90s",
		"--load-loss", strconv.FormatFloat(cfg.Loss, 'f', -1, 64), "--load-audio="+strconv.FormatBool(cfg.Audio))
	if err != nil {
		return row, err
	}
	lines := make(chan loadLine, 4096)
	go readLines(pr, lines)
	defer func() { _ = phone.stop(os.Interrupt, 10*time.Second); pw.Close() }()
	first, ok := <-lines
	if !ok || first.Type != "listening" {
		return row, errors.New("load phone did not start (see its log)")
	}

	// dialflow.
	httpAddr, err := freeAddr()
	if err != nil {
		return row, err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return row, err
	}
	serveLog, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return row, err
	}
	defer serveLog.Close()
	const key = "load-run-key"
	args := []string{"serve", "--http", httpAddr, "--sip-listen", "127.0.0.1:0",
		"--rtp-ports", "0", "--trunk", first.Trunk, "--capacity", strconv.Itoa(n), "--cps", strconv.FormatFloat(cfg.CPS, 'f', -1, 64), "--api-key", key,
		"--data", filepath.Join(dir, "data"), "--tts", cfg.TTS, "--drain-timeout", "5s"}
	if cfg.ProfileDir != "" {
		args = append(args, "--pprof", pprofAddr)
	}
	serve, err := start(ctx, cfg.Bin, io.Discard, serveLog, args...)
	if err != nil {
		return row, err
	}
	defer func() { _ = serve.stop(syscall.SIGTERM, 20*time.Second) }()
	api := client{base: "http://" + httpAddr, key: key}
	if err := api.waitHealthy(ctx); err != nil {
		return row, fmt.Errorf("dialflow did not start: %w (log %s)", err, serveLog.Name())
	}
	pid := serve.cmd.Process.Pid
	idle, err := sampleProc(pid)
	if err != nil {
		return row, err
	}
	rcv0, snd0 := udpErrors()
	phone0, _ := sampleProc(phone.cmd.Process.Pid)

	reqID := fmt.Sprintf("load-%d-%d", n, time.Now().Unix())
	if err := api.post(ctx, request(reqID, n, cfg.Prompt, cfg.Record)); err != nil {
		return row, err
	}
	posted := time.Now()

	// Wait until every call is up, then measure over the window.
	var prog loadphone.Progress
	var win [2]procSample
	var pwin [2]procSample
	var prof []byte
	measured := false
	for prog.Ended < n {
		select {
		case <-ctx.Done():
			return row, fmt.Errorf("level did not finish: %+v", prog)
		case l, ok := <-lines:
			if !ok {
				return row, errors.New("load phone exited early")
			}
			if l.Progress == nil {
				continue
			}
			prog = *l.Progress
		}
		row.Concurrent = max(row.Concurrent, prog.Active)
		allUp := prog.Answered == n && prog.Active == n
		late := time.Since(posted) > cfg.DigitAfter*4/7 // the first calls end soon after the press
		if !measured && (allUp || (late && prog.Ended == 0 && prog.Answered > 0)) {
			measured, row.AllUp = true, allUp
			if win, pwin, prof, err = measure(ctx, cfg, pid, phone.cmd.Process.Pid, pprofAddr, n); err != nil {
				return row, err
			}
		}
	}
	row.Cores = cores(win[0], win[1])
	row.CPUPerCall = row.Cores * 1000 / float64(n)
	row.RSS = win[1].rss
	row.RSSPerCall = (win[1].rss - idle.rss) / int64(n)
	row.PhoneCores = cores(pwin[0], pwin[1])
	_ = phone0
	if cfg.ProfileDir != "" && prof != nil {
		_ = os.WriteFile(filepath.Join(cfg.ProfileDir, fmt.Sprintf("cpu-%d.pprof", n)), prof, 0o644)
	}

	st, err := api.status(ctx, reqID)
	if err != nil {
		return row, err
	}
	for _, d := range st.Details {
		if d.Status == "completed" {
			row.Completed++
		} else {
			row.Errors++
		}
		for _, s := range d.CallFlowSteps {
			if s.StepName == "gather" && s.Info.Branch == "1" {
				row.Digits++
			}
		}
	}
	rcv1, snd1 := udpErrors()
	row.KernelDrops = (rcv1 - rcv0) + (snd1 - snd0)
	_ = serve.stop(syscall.SIGTERM, 20*time.Second)
	_ = phone.stop(os.Interrupt, 10*time.Second)
	pw.Close()
	for l := range lines {
		if l.Report != nil {
			row.Phone = *l.Report
		}
	}
	row.Wall = time.Since(began).Round(time.Second)
	return row, nil
}

// measure samples dialflow and the phone over the window, with a CPU
// profile of dialflow when asked.
func measure(ctx context.Context, cfg Config, pid, phonePid int, pprofAddr string, n int) (w, pw [2]procSample, prof []byte, err error) {
	time.Sleep(500 * time.Millisecond)
	if w[0], err = sampleProc(pid); err != nil {
		return
	}
	pw[0], _ = sampleProc(phonePid)
	if cfg.ProfileDir != "" {
		secs := int(cfg.Window / time.Second)
		go func() {
			// An execution trace of the same window shows scheduling delays.
			if tr, err := get(ctx, fmt.Sprintf("http://%s/debug/pprof/trace?seconds=2", pprofAddr)); err == nil {
				_ = os.WriteFile(filepath.Join(cfg.ProfileDir, fmt.Sprintf("trace-%d.out", n)), tr, 0o644)
			}
		}()
		prof, err = get(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs))
		if err != nil {
			return
		}
	} else {
		time.Sleep(cfg.Window)
	}
	if w[1], err = sampleProc(pid); err != nil {
		return
	}
	pw[1], _ = sampleProc(phonePid)
	return
}

// loadLine mirrors the JSON lines of `dialflow phone --load`.
type loadLine struct {
	Type     string              `json:"type"`
	Trunk    string              `json:"trunk"`
	Progress *loadphone.Progress `json:"progress"`
	Report   *loadphone.Report   `json:"report"`
}

func readLines(r io.Reader, out chan<- loadLine) {
	defer close(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l loadLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out <- l
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %s", url, res.Status, bytes.TrimSpace(b))
	}
	return b, err
}
