package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/dialflow/dialflow/api"
	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/internal/metrics"
	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/sip"
	"github.com/dialflow/dialflow/store"
	"github.com/dialflow/dialflow/tts"
	"github.com/dialflow/dialflow/webhook"
)

// runServe is `dialflow serve`: the HTTP API, the dialer, the SIP user
// agent and the webhook sender in one process.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultServeConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if err := applyEnv(fs, os.Getenv); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	procs, gc := tuneRuntime(os.Getenv)
	log.Info("go runtime", "gomaxprocs", procs, "gogc", gc)
	m, err := startServer(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dialflow %s serving HTTP on http://%s\n", version, m.httpAddr)
	<-ctx.Done()
	log.Info("shutting down")
	return m.close()
}

// tuneRuntime sets the Go runtime up for paced media, unless the GOMAXPROCS
// and GOGC environment variables say otherwise, and returns the settings
// in force. Both were measured with the load run (BENCHMARKS.md):
//
//   - twice as many processors as the process may use cores: the RTP
//     pacer's workers must get a processor within a millisecond or two,
//     and with one processor per core a garbage-collection mark phase
//     (which takes a whole processor) or a burst of SIP work holds them
//     off for tens of milliseconds; with more processors than cores the
//     kernel time-slices the threads instead;
//   - garbage collection at 400% heap growth instead of 100%: a call's
//     state lives for minutes and the media path does not allocate, so
//     collections are rare either way, but each one disturbs the pacing;
//     fewer of them cut the send-lateness tail (p99) by about half for
//     a few MiB of heap.
func tuneRuntime(getenv func(string) string) (procs, gcPercent int) {
	procs = runtime.GOMAXPROCS(0)
	if getenv("GOMAXPROCS") == "" {
		procs *= 2
		runtime.GOMAXPROCS(procs)
	}
	gcPercent = 400
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	} else {
		gcPercent = debug.SetGCPercent(-1)
		debug.SetGCPercent(gcPercent)
	}
	return procs, gcPercent
}

// server is a running dialflow: every part started by startServer, closed
// in reverse order by close.
type server struct {
	httpAddr net.Addr
	db       *store.DB
	dialer   *dialer.Dialer
	ua       *sip.UA
	demo     *demoTrunk
	pacer    *media.Pacer
	pprof    *http.Server
	drain    time.Duration
	log      *slog.Logger

	closeOnce sync.Once
	closeErr  error
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	errs      chan error
}

// startServer opens the store, starts the SIP side, the dialer, the API and
// the webhook sender. httpListener, when set, replaces cfg.HTTP (tests).
func startServer(ctx context.Context, cfg serveConfig, log *slog.Logger, httpListener net.Listener) (_ *server, err error) {
	s := &server{errs: make(chan error, 4), drain: cfg.Drain, log: log}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	eng, err := newEngine(cfg.TTS)
	if err != nil {
		return nil, err
	}
	cache, err := tts.NewCache(eng, filepath.Join(cfg.Data, "tts-cache"), eng.Name(), 0)
	if err != nil {
		return nil, err
	}
	s.db, err = store.Open(ctx, filepath.Join(cfg.Data, store.FileName), store.Options{Logger: log.With("component", "store")})
	if err != nil {
		return nil, err
	}
	trunk := cfg.Trunk
	placer := &callPlacer{tts: cache, log: log.With("component", "call")}
	if cfg.Demo {
		if s.demo, err = newDemoTrunk(log.With("component", "demo-phone")); err != nil {
			return nil, fmt.Errorf("demo phone: %w", err)
		}
		trunk = s.demo.phone.TrunkURI()
		placer.before = s.demo.expect
		log.Warn("DEMO MODE: calls go to an in-process simulated phone, not a real trunk; nobody is really called",
			"trunk", trunk, "api_key", "demo (accepted because --demo is set without --api-key)")
	}
	ports, err := sip.ParsePortRange(cfg.RTPPorts)
	if cfg.RTPPorts == "0" {
		ports, err = sip.PortRange{}, nil
	}
	if err != nil {
		return nil, err
	}
	s.pacer = media.NewPacer(media.PacerConfig{})
	s.pacer.Start()
	sc := sip.Config{Listen: cfg.SIPListen, TCP: true, Trunk: trunk, Username: cfg.TrunkUser, Password: cfg.TrunkPassword,
		RTPPorts: ports, Logger: log.With("component", "sip"),
		Media: sip.StreamMediaOpener(s.pacer, log.With("component", "media"))}
	if cfg.PublicIP != "" {
		sc.PublicIP = netip.MustParseAddr(cfg.PublicIP)
	}
	if s.ua, err = sip.NewUA(sc); err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	placer.ua = s.ua
	met := metrics.New()
	s.dialer, err = dialer.New(dialer.Config{Capacity: cfg.Capacity, CallsPerSecond: cfg.CPS,
		RecordingDir: filepath.Join(cfg.Data, "recordings"), Logger: log.With("component", "dialer"), Observer: met}, s.db, placer)
	if err != nil {
		return nil, err
	}
	if err := s.dialer.Start(ctx); err != nil {
		return nil, fmt.Errorf("dialer: %w", err)
	}
	keys := map[string][]byte{}
	for _, k := range cfg.APIKeys {
		keys[api.OwnerID(k)] = []byte(k)
	}
	wh := webhook.New(webhook.Config{Outbox: s.db, Logger: log.With("component", "webhook"),
		Key: func(owner string) ([]byte, bool) { k, ok := keys[owner]; return k, ok }})
	srv, err := api.New(api.Config{Addr: cfg.HTTP, Listener: httpListener, Keys: cfg.APIKeys, Backend: s.dialer,
		Metrics: met.Handler(), Languages: eng.Supports, Events: s.db, Redelivered: wh.Notify, Logger: log.With("component", "api")})
	if err != nil {
		return nil, err
	}
	s.httpAddr = srv.Addr()
	if cfg.Pprof != "" {
		if s.pprof, _, err = startPprof(cfg.Pprof, log); err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.errs <- srv.Run(runCtx) }()
	go func() { defer s.wg.Done(); s.errs <- wh.Run(runCtx) }()
	return s, nil
}

// close lets live calls finish (up to the drain bound) without starting
// new ones, stops the API and webhooks, hangs up what is left, then closes
// the SIP side and the store. It is safe to call more than once.
func (s *server) close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *server) shutdown() error {
	var errs []error
	if s.dialer != nil && s.drain > 0 {
		// Stop dialing and let live calls finish, up to the bound.
		ctx, cancel := context.WithTimeout(context.Background(), s.drain)
		if n := s.dialer.Drain(ctx); n > 0 {
			s.log.Warn("shutdown: hanging up calls still live after the drain bound", "calls", n, "bound", s.drain)
		}
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
		close(s.errs)
		for err := range s.errs {
			if err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, err)
			}
		}
	}
	if s.pprof != nil {
		errs = append(errs, s.pprof.Close())
	}
	if s.dialer != nil {
		errs = append(errs, s.dialer.Close())
	}
	if s.ua != nil {
		errs = append(errs, s.ua.Close())
	}
	if s.pacer != nil {
		errs = append(errs, s.pacer.Close())
	}
	if s.demo != nil {
		errs = append(errs, s.demo.close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}
