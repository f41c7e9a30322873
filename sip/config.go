package sip

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// PortRange is an inclusive range of RTP ports; the zero value lets the
// kernel choose.
type PortRange struct{ Min, Max int }

// ParsePortRange reads "20000-29999".
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return PortRange{}, fmt.Errorf("rtp ports %q: want <min>-<max> within 1-65535", s)
	}
	return PortRange{Min: a, Max: b}, nil
}

// Config configures a UA. Zero values are documented defaults.
type Config struct {
	// Listen is the UDP address to listen on ("127.0.0.1:5060"; port 0 picks
	// one). Required.
	Listen string
	// TCP also listens on TCP at the same address and port, for in-dialog
	// requests and trunks reached with transport=tcp.
	TCP bool
	// PublicIP, when valid, is written in Contact, Via and SDP instead of the
	// listen address (behind NAT).
	PublicIP netip.Addr
	// Trunk is the trunk URI, "sip:host:port" (params such as transport=tcp
	// are kept). Required for Dial with a number or Ext:N.
	Trunk string
	// Username and Password answer digest challenges (401 and 407).
	Username, Password string
	// RTPPorts is the RTP port range of the built-in media.
	RTPPorts PortRange
	// Media opens the RTP side of each call; nil uses StreamMedia (a media.Stream per call).
	Media MediaOpener
	// UserAgent is the User-Agent header value (default "dialflow").
	UserAgent string
	// TransferTimeout bounds the wait for a final NOTIFY after REFER
	// (default 30 s).
	TransferTimeout time.Duration
	// Logger receives the UA's logs (default: discarded). Numbers and digits
	// are logged at Debug only.
	Logger *slog.Logger
}

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.Listen == "" {
		return out, errors.New("sip config: listen address is required")
	}
	ap, err := netip.ParseAddrPort(out.Listen)
	if err != nil {
		return out, fmt.Errorf("sip config: listen %q: want ip:port: %w", out.Listen, err)
	}
	if ap.Addr().IsUnspecified() && !out.PublicIP.IsValid() {
		return out, fmt.Errorf("sip config: listen %q is a wildcard address: set a public IP for Contact and SDP", out.Listen)
	}
	if out.Trunk != "" {
		var u sipmsg.Uri
		if err := sipmsg.ParseUri(out.Trunk, &u); err != nil || u.Host == "" {
			return out, fmt.Errorf("sip config: trunk %q: want sip:host[:port]", out.Trunk)
		}
	}
	if out.UserAgent == "" {
		out.UserAgent = "dialflow"
	}
	if out.TransferTimeout <= 0 {
		out.TransferTimeout = 30 * time.Second
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out, nil
}

// SIPReadBuffer is the receive buffer asked for the SIP UDP socket (4 MiB,
// about 4000 responses of 1 KB in flight); the kernel caps it at
// net.core.rmem_max.
const SIPReadBuffer = 4 << 20
