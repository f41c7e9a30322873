package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// serveConfig is everything `dialflow serve` is configured with (SPEC §8).
// Each flag has an environment equivalent DIALFLOW_<NAME> (dashes become
// underscores); a flag given on the command line wins over the environment.
type serveConfig struct {
	HTTP          string
	APIKeys       []string
	Trunk         string
	TrunkUser     string
	TrunkPassword string
	Capacity      int
	CPS           float64
	SIPListen     string
	RTPPorts      string
	PublicIP      string
	Data          string
	TTS           string
	Demo          bool
	// Drain bounds how long a shutdown waits for live calls to finish
	// before hanging them up.
	Drain time.Duration
	// Pprof, when set, serves net/http/pprof on this address (profiling
	// load runs); empty means off.
	Pprof string
}

// defaultServeConfig holds the embedded defaults `make run` uses.
func defaultServeConfig() serveConfig {
	return serveConfig{
		HTTP:      "127.0.0.1:8080",
		Capacity:  6,
		SIPListen: "127.0.0.1:5060",
		RTPPorts:  "20000-29999",
		Data:      "./data",
		TTS:       "espeak",
		Drain:     30 * time.Second,
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

// Set appends a value; commas separate several values.
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// register adds serve's flags to fs, bound to c.
func (c *serveConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTP, "http", c.HTTP, "HTTP API listen address")
	fs.Var((*stringList)(&c.APIKeys), "api-key", "API key accepted in x-credential-api-key (repeatable)")
	fs.StringVar(&c.Trunk, "trunk", c.Trunk, "SIP trunk URI, e.g. sip:pbx.example:5060")
	fs.StringVar(&c.TrunkUser, "trunk-user", c.TrunkUser, "digest user for the trunk")
	fs.StringVar(&c.TrunkPassword, "trunk-password", c.TrunkPassword, "digest password for the trunk")
	fs.IntVar(&c.Capacity, "capacity", c.Capacity, "concurrent calls the trunk allows")
	fs.Float64Var(&c.CPS, "cps", c.CPS, "maximum call attempts per second (0 = no cap)")
	fs.StringVar(&c.SIPListen, "sip-listen", c.SIPListen, "SIP listen address (UDP and TCP)")
	fs.StringVar(&c.RTPPorts, "rtp-ports", c.RTPPorts, "RTP port range MIN-MAX")
	fs.StringVar(&c.PublicIP, "public-ip", c.PublicIP, "address advertised in SDP and Contact behind NAT")
	fs.StringVar(&c.Data, "data", c.Data, "directory for the database, recordings and the TTS cache")
	fs.StringVar(&c.TTS, "tts", c.TTS, "text-to-speech engine: espeak or tones (deterministic test tones)")
	fs.DurationVar(&c.Drain, "drain-timeout", c.Drain, "on shutdown, how long live calls may finish before they are hung up")
	fs.StringVar(&c.Pprof, "pprof", c.Pprof, "serve Go profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060 (empty: off)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "use an in-process simulated phone as the trunk (no real calls)")
}

// applyEnv sets every flag not given on the command line from its
// DIALFLOW_* variable.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := "DIALFLOW_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

// validate checks the configuration and fills what --demo implies.
func (c *serveConfig) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.HTTP); err != nil {
		errs = append(errs, fmt.Errorf("--http %q: %w", c.HTTP, err))
	}
	if _, _, err := net.SplitHostPort(c.SIPListen); err != nil {
		errs = append(errs, fmt.Errorf("--sip-listen %q: %w", c.SIPListen, err))
	}
	if _, _, err := parsePortRange(c.RTPPorts); err != nil {
		errs = append(errs, fmt.Errorf("--rtp-ports: %w", err))
	}
	if c.Capacity < 1 {
		errs = append(errs, errors.New("--capacity must be at least 1"))
	}
	if c.CPS < 0 {
		errs = append(errs, errors.New("--cps must not be negative"))
	}
	if c.PublicIP != "" && net.ParseIP(c.PublicIP) == nil {
		errs = append(errs, fmt.Errorf("--public-ip %q is not an IP address", c.PublicIP))
	}
	if !c.Demo && c.Trunk == "" {
		errs = append(errs, errors.New("--trunk is required (or --demo for a simulated phone)"))
	}
	if !c.Demo && len(c.APIKeys) == 0 {
		errs = append(errs, errors.New("--api-key is required (or --demo, which accepts the key \"demo\")"))
	}
	if c.Demo && len(c.APIKeys) == 0 {
		c.APIKeys = []string{"demo"}
	}
	return errors.Join(errs...)
}

// parsePortRange reads "MIN-MAX" (or "0" for ephemeral ports).
func parsePortRange(s string) (int, int, error) {
	if s == "0" {
		return 0, 0, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || a < 1024 || b > 65535 || a >= b {
		return 0, 0, fmt.Errorf("%q is not MIN-MAX with 1024 <= MIN < MAX <= 65535", s)
	}
	return a, b, nil
}
