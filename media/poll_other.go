//go:build !linux

package media

import (
	"net"
	"net/netip"
)

// poller is only implemented on Linux; elsewhere every stream has a
// receive goroutine.
type poller struct{}

func newPoller(*net.UDPConn) *poller { return nil }

func (*poller) next() ([]byte, netip.AddrPort, bool) { return nil, netip.AddrPort{}, false }

func (*poller) send([]byte, netip.AddrPort) error { return nil }

func (*poller) close() error { return nil }
