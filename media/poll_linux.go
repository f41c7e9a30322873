//go:build linux

package media

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// poller reads and writes a stream's UDP socket without blocking, so the
// pacer that sends a stream's frames also drains what arrived for it: no
// receive goroutine per call and no wake-up per packet. It takes the socket
// out of the Go network poller (it keeps a duplicate descriptor and closes
// the net.UDPConn), so arriving packets wake nobody up. It belongs to the
// goroutine that drives the stream's frames (under Stream.sendMu), uses raw
// system calls that never block — the pacer keeps its processor — and does
// not allocate.
type poller struct {
	fd  int
	buf [maxDatagram]byte
	sa  syscall.RawSockaddrAny

	dst4 syscall.RawSockaddrInet4
	dst6 syscall.RawSockaddrInet6
}

// newPoller takes over c: on success c is closed and the poller owns a
// duplicate of its descriptor; on failure c is untouched and nil returned.
func newPoller(c *net.UDPConn) *poller {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	if cerr := raw.Control(func(f uintptr) { fd, err = syscall.Dup(int(f)) }); cerr != nil || err != nil {
		return nil
	}
	syscall.CloseOnExec(fd)
	_ = c.Close()
	return &poller{fd: fd}
}

// next returns the next waiting datagram and its source; ok is false when
// nothing is waiting. b is valid until the next call.
func (p *poller) next() (b []byte, src netip.AddrPort, ok bool) {
	salen := uint32(syscall.SizeofSockaddrAny)
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(p.fd), uintptr(unsafe.Pointer(&p.buf[0])), uintptr(len(p.buf)),
		syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&p.sa)), uintptr(unsafe.Pointer(&salen)))
	if e != 0 {
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
	return p.buf[:n], src, true
}

// send writes one datagram to dst without blocking (a full socket buffer
// drops it and reports EAGAIN).
func (p *poller) send(b []byte, dst netip.AddrPort) error {
	var sa unsafe.Pointer
	var salen uintptr
	if a := dst.Addr(); a.Is4() {
		p.dst4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Port: port(dst.Port()), Addr: a.As4()}
		sa, salen = unsafe.Pointer(&p.dst4), syscall.SizeofSockaddrInet4
	} else {
		p.dst6 = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Port: port(dst.Port()), Addr: a.As16()}
		sa, salen = unsafe.Pointer(&p.dst6), syscall.SizeofSockaddrInet6
	}
	_, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(p.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		syscall.MSG_DONTWAIT, uintptr(sa), salen)
	if e != 0 {
		return e
	}
	return nil
}

// close releases the descriptor; the caller guarantees no next or send
// runs at the same time or after.
func (p *poller) close() error { return syscall.Close(p.fd) }

// port swaps a port between host order and the network order a sockaddr
// holds in memory (the swap is its own inverse).
func port(raw uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&raw))
	return uint16(b[0])<<8 | uint16(b[1])
}
