package rtpio

import (
	"fmt"
	"net"
	"net/netip"
)

// Listen binds a UDP socket on ip with an even port from [min, max]; min 0
// asks the kernel for any port.
func Listen(ip netip.Addr, min, max int) (*net.UDPConn, error) {
	if min == 0 {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, fmt.Errorf("rtp listen %s: %w", ip, err)
		}
		return c, nil
	}
	if max < min {
		return nil, fmt.Errorf("rtp listen: port range %d-%d is empty", min, max)
	}
	start := min + (min & 1)
	for p := start; p <= max; p += 2 {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p))))
		if err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("rtp listen %s %d-%d: %w", ip, min, max, ErrNoPort)
}
