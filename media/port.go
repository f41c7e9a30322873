package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"syscall"
)

// PortRange is an inclusive range of UDP ports for RTP. The zero value
// (Min = Max = 0) means an ephemeral port chosen by the system, for tests.
type PortRange struct {
	Min, Max int
}

// Validate checks that the range is zero or 1024 ≤ Min ≤ Max ≤ 65535 with
// at least one even port.
func (r PortRange) Validate() error {
	if r.Min == 0 && r.Max == 0 {
		return nil
	}
	if r.Min < 1024 || r.Max > 65535 || r.Min > r.Max || (r.Min == r.Max && r.Min%2 == 1) {
		return fmt.Errorf("%w: %d-%d", ErrPortRange, r.Min, r.Max)
	}
	return nil
}

// ListenRTP binds a UDP socket on ip (an IP address, "" = all) at an even
// port of r (RFC 3550 §11), trying ports from a random starting point so
// concurrent calls spread over the range. A zero range binds an ephemeral
// port (which may be odd). It fails with ErrPortRange when the range is
// invalid or every even port is taken.
func ListenRTP(ip string, r PortRange) (*net.UDPConn, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("listen rtp: %w", err)
	}
	var addr net.IP
	if ip != "" {
		if addr = net.ParseIP(ip); addr == nil {
			return nil, fmt.Errorf("listen rtp: invalid ip %q", ip)
		}
	}
	if r.Min == 0 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: addr})
		if err != nil {
			return nil, fmt.Errorf("listen rtp: %w", err)
		}
		return c, nil
	}
	first := (r.Min + 1) &^ 1
	n := (r.Max-first)/2 + 1
	off := rand.IntN(n)
	for i := 0; i < n; i++ {
		port := first + 2*((off+i)%n)
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: addr, Port: port})
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listen rtp %d: %w", port, err)
		}
	}
	return nil, fmt.Errorf("listen rtp: %w: no free even port in %d-%d", ErrPortRange, r.Min, r.Max)
}
