package loadphone

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	batch      = 64
	rtpHeader  = 12
	frameBytes = 160
	sockBuffer = 16 << 20
)

// openSocket opens the one UDP socket that carries every call's RTP, with
// large buffers and kernel receive timestamps, and returns its descriptor
// (outside the Go network poller: the phone polls it) and port.
func openSocket(host string) (fd, port int, err error) {
	addr, err := net.ResolveUDPAddr("udp4", net.JoinHostPort(host, "0"))
	if err != nil {
		return -1, 0, err
	}
	c, err := net.ListenUDP("udp4", addr)
	if err != nil {
		return -1, 0, err
	}
	defer c.Close()
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, 0, err
	}
	fd = -1
	var serr error
	err = raw.Control(func(f uintptr) {
		for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
			if unix.SetsockoptInt(int(f), unix.SOL_SOCKET, o[0], sockBuffer) != nil {
				_ = unix.SetsockoptInt(int(f), unix.SOL_SOCKET, o[1], sockBuffer)
			}
		}
		if serr = unix.SetsockoptInt(int(f), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); serr == nil {
			fd, serr = unix.Dup(int(f))
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return -1, 0, err
	}
	unix.CloseOnExec(fd)
	return fd, c.LocalAddr().(*net.UDPAddr).Port, nil
}

// kernelTime reads the SO_TIMESTAMPNS control message, or returns 0.
func kernelTime(oob []byte) int64 {
	for len(oob) >= unix.CmsgSpace(0) {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.CmsgLen(0) || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= unix.CmsgLen(16) {
			d := oob[unix.CmsgLen(0):]
			sec := int64(binary.NativeEndian.Uint64(d[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(d[8:16]))
			return sec*int64(time.Second) + nsec
		}
		oob = oob[min(len(oob), unix.CmsgSpace(l-unix.CmsgLen(0))):]
	}
	return 0
}

// pollEvery is how often the phone drains its socket. It never waits in
// the kernel for a packet: a sleeping reader would make every sender pay
// for waking it up, and dialflow's send cost is what the run measures.
// Kernel timestamps keep arrival times exact regardless.
const pollEvery = 2 * time.Millisecond

// receive drains every call's RTP until the phone closes.
func (p *Phone) receive() {
	defer p.wg.Done()
	var (
		hdrs [batch]unix.Mmsghdr
		iovs [batch]unix.Iovec
		bufs [batch][1500]byte
		oobs [batch][128]byte
		sas  [batch]unix.RawSockaddrAny
	)
	for i := range hdrs {
		iovs[i].Base = &bufs[i][0]
		iovs[i].SetLen(len(bufs[i]))
		hdrs[i].Hdr.Iov = &iovs[i]
		hdrs[i].Hdr.SetIovlen(1)
	}
	for p.ctx.Err() == nil {
		for {
			for i := range hdrs {
				hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&sas[i]))
				hdrs[i].Hdr.Namelen = unix.SizeofSockaddrAny
				hdrs[i].Hdr.Control = &oobs[i][0]
				hdrs[i].Hdr.SetControllen(len(oobs[i]))
			}
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(p.fd), uintptr(unsafe.Pointer(&hdrs[0])), batch,
				unix.MSG_DONTWAIT, 0, 0)
			if e != 0 {
				break
			}
			n := int(r)
			now := time.Now().UnixNano()
			for i := range hdrs[:n] {
				h := &hdrs[i]
				at := kernelTime(oobs[i][:h.Hdr.Controllen])
				if at == 0 {
					at = now
				}
				if sas[i].Addr.Family != unix.AF_INET {
					p.malformed.Add(1)
					continue
				}
				sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sas[i]))
				p.packet(netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), swap16(sa.Port)), bufs[i][:h.Len], at)
			}
			if n < batch {
				break
			}
		}
		time.Sleep(pollEvery)
	}
}

// swap16 converts a port between host order and the network order a
// sockaddr holds in memory.
func swap16(v uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&v))
	return uint16(b[0])<<8 | uint16(b[1])
}

// packet accounts one received datagram.
func (p *Phone) packet(from netip.AddrPort, b []byte, at int64) {
	if len(b) < rtpHeader || b[0]>>6 != 2 {
		p.malformed.Add(1)
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	p.mu.Lock()
	c := p.byAddr[from]
	p.mu.Unlock()
	if c == nil {
		p.foreign.Add(1)
		return
	}
	pt := b[1] & 0x7f
	seq := binary.BigEndian.Uint16(b[2:4])
	ts := binary.BigEndian.Uint32(b[4:8])
	cc := int(b[0] & 0x0f)
	off := rtpHeader + 4*cc
	if b[0]&0x10 != 0 && len(b) >= off+4 {
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:off+4]))
	}
	if off > len(b) {
		p.malformed.Add(1)
		return
	}
	c.mu.Lock()
	if pt == c.eventPT && c.eventPT != 0 {
		c.rx.events++
	} else {
		c.rx.audio(seq, ts, at, talking(b[off:], pt))
	}
	c.mu.Unlock()
}

// talking reports whether a G.711 payload carries sound rather than the
// silence code words.
func talking(payload []byte, pt uint8) bool {
	a, b := byte(0xff), byte(0x7f) // PCMU ±0
	if pt == 8 {
		a, b = 0xd5, 0x55 // PCMA ±0
	}
	for _, x := range payload {
		if x != a && x != b {
			return true
		}
	}
	return false
}

// txState is one call's sending side; it belongs to the send goroutine.
type txState struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	marker  bool
	digitAt time.Time
	evTick  int // -1 before the press, then packets sent
	evTS    uint32
}

// send paces every answered call's audio (silence) and its digit, in
// sendmmsg batches once per 20 ms tick against absolute deadlines.
func (p *Phone) send() {
	defer p.wg.Done()
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	var (
		hdrs [batch]unix.Mmsghdr
		iovs [batch]unix.Iovec
		bufs [batch][rtpHeader + frameBytes]byte
		sas  [batch]unix.RawSockaddrInet4
	)
	for i := range hdrs {
		iovs[i].Base = &bufs[i][0]
		hdrs[i].Hdr.Iov = &iovs[i]
		hdrs[i].Hdr.SetIovlen(1)
		hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&sas[i]))
		hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
	}
	flush := func(k int) {
		for off := 0; off < k; {
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(p.fd), uintptr(unsafe.Pointer(&hdrs[off])), uintptr(k-off), 0, 0, 0)
			if e != 0 || r == 0 {
				p.sendErrors.Add(uint64(k - off))
				return
			}
			off += int(r)
		}
	}
	var calls []*call
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for n := int64(1); ; n++ {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		calls = p.answeredCalls(calls[:0])
		k := 0
		for _, c := range calls {
			b, ok := p.nextPacket(c, now, bufs[k][:], rng)
			if !ok {
				continue
			}
			iovs[k].SetLen(len(b))
			sas[k] = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: swap16(c.key.Port()), Addr: c.key.Addr().As4()}
			if k++; k == batch {
				flush(k)
				k = 0
			}
		}
		flush(k)
		t.Reset(time.Until(start.Add(time.Duration(n) * 20 * time.Millisecond)))
	}
}

// Event packets of one press: 5 × 20 ms of tone, then 3 end packets.
const (
	eventPackets = 5
	endPackets   = 3
)

// nextPacket builds the call's packet for this tick into buf; ok is false
// when nothing goes out (no audio configured, or the packet is dropped).
func (p *Phone) nextPacket(c *call, now time.Time, buf []byte, rng *rand.Rand) ([]byte, bool) {
	tx := &c.tx
	tx.ts += frameBytes
	event := false
	if tx.evTick < 0 && !tx.digitAt.IsZero() && !now.Before(tx.digitAt) && c.eventPT != 0 {
		tx.evTick, tx.evTS, tx.marker = 0, tx.ts, true
		p.digitsSent.Add(1)
	}
	if tx.evTick >= 0 && tx.evTick < eventPackets+endPackets {
		event = true
		tx.evTick++
	}
	if !event && !p.cfg.SendAudio {
		return nil, false
	}
	tx.seq++
	hdr := buf[:rtpHeader]
	hdr[0] = 0x80
	hdr[1] = c.codec
	if event {
		hdr[1] = c.eventPT
	}
	if tx.marker {
		hdr[1] |= 0x80
		tx.marker = false
	}
	binary.BigEndian.PutUint16(hdr[2:4], tx.seq)
	binary.BigEndian.PutUint32(hdr[8:12], tx.ssrc)
	var b []byte
	if event {
		binary.BigEndian.PutUint32(hdr[4:8], tx.evTS)
		e := buf[rtpHeader : rtpHeader+4]
		e[0] = c.digit
		e[1] = 10 // volume
		dur := min(tx.evTick, eventPackets) * frameBytes
		if tx.evTick > eventPackets {
			e[1] |= 0x80 // end
		}
		binary.BigEndian.PutUint16(e[2:4], uint16(dur))
		b = buf[:rtpHeader+4]
		p.eventPackets.Add(1)
	} else {
		binary.BigEndian.PutUint32(hdr[4:8], tx.ts)
		silence := byte(0xff)
		if c.codec == 8 {
			silence = 0xd5
		}
		pl := buf[rtpHeader : rtpHeader+frameBytes]
		for i := range pl {
			pl[i] = silence
		}
		b = buf[:rtpHeader+frameBytes]
		p.audioSent.Add(1)
	}
	if p.cfg.Loss > 0 && rng.Float64() < p.cfg.Loss {
		if event {
			p.eventDropped.Add(1)
		} else {
			p.audioDropped.Add(1)
		}
		return nil, false
	}
	return b, true
}
