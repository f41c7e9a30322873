//go:build linux

package media

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// poller reads a UDP socket without blocking, so the pacer that sends a
// stream's frames also drains what arrived for it: no receive goroutine
// per call and no scheduler wake-up per packet. It belongs to the goroutine
// that drives the stream's frames (under Stream.sendMu) and does not
// allocate.
type poller struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool
	buf [maxDatagram]byte
	sa  syscall.RawSockaddrAny
	n   int
	eno syscall.Errno

	// send side (also under Stream.sendMu)
	sendFn  func(fd uintptr) bool
	out     []byte
	dst4    syscall.RawSockaddrInet4
	dst6    syscall.RawSockaddrInet6
	dstLen  uintptr
	dstPtr  unsafe.Pointer
	sendEno syscall.Errno
}

func newPoller(c *net.UDPConn) *poller {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	p := &poller{raw: raw}
	p.fn = p.recv
	p.sendFn = p.sendto
	return p
}

// send writes one datagram to dst without blocking (a full socket buffer
// drops it). Both directions use raw system calls: they never block, so
// the pacer keeps its processor instead of handing it off per packet.
func (p *poller) send(b []byte, dst netip.AddrPort) error {
	if a := dst.Addr(); a.Is4() {
		p.dst4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Port: port(dst.Port()), Addr: a.As4()}
		p.dstPtr, p.dstLen = unsafe.Pointer(&p.dst4), syscall.SizeofSockaddrInet4
	} else {
		p.dst6 = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Port: port(dst.Port()), Addr: a.As16()}
		p.dstPtr, p.dstLen = unsafe.Pointer(&p.dst6), syscall.SizeofSockaddrInet6
	}
	p.out = b
	err := p.raw.Write(p.sendFn)
	p.out = nil
	if err != nil {
		return err
	}
	if p.sendEno != 0 {
		return p.sendEno
	}
	return nil
}

func (p *poller) sendto(fd uintptr) bool {
	_, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p.out[0])), uintptr(len(p.out)),
		syscall.MSG_DONTWAIT, uintptr(p.dstPtr), p.dstLen)
	p.sendEno = e
	return true
}

// recv is one non-blocking recvfrom; returning true tells the runtime not
// to wait for readiness.
func (p *poller) recv(fd uintptr) bool {
	salen := uint32(syscall.SizeofSockaddrAny)
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p.buf[0])), uintptr(len(p.buf)),
		syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&p.sa)), uintptr(unsafe.Pointer(&salen)))
	p.n, p.eno = int(n), e
	return true
}

// next returns the next waiting datagram and its source; ok is false when
// nothing is waiting or the socket is closed. b is valid until the next call.
func (p *poller) next() (b []byte, src netip.AddrPort, ok bool) {
	if err := p.raw.Read(p.fn); err != nil || p.eno != 0 {
		return nil, src, false
	}
	switch p.sa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&p.sa))
		src = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port(sa.Port))
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&p.sa))
		src = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port(sa.Port))
	}
	return p.buf[:p.n], src, true
}

// port swaps a port between host order and the network order a sockaddr
// holds in memory (the swap is its own inverse).
func port(raw uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&raw))
	return uint16(b[0])<<8 | uint16(b[1])
}
