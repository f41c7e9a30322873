package loadphone

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzPacket feeds arbitrary datagrams to the phone's RTP accounting, from
// a known call and from a stranger: nothing panics, and only packets of
// the call count for it.
func FuzzPacket(f *testing.F) {
	f.Add([]byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 1, 2, 3, 4, 0xff, 0xff})
	f.Add([]byte{0x90, 0x65, 0x00, 0x02, 0, 0, 1, 64, 1, 2, 3, 4, 0, 0, 0, 1, 9, 9, 9, 9, 1, 10, 0, 160})
	f.Add([]byte{0x8f, 0x08})
	f.Add([]byte{})
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &call{eventPT: 101}
		p := &Phone{byAddr: map[netip.AddrPort]*call{from: c}}
		p.packet(from, b, time.Now().UnixNano())
		p.packet(from, b, time.Now().UnixNano())
		p.packet(netip.MustParseAddrPort("127.0.0.1:4001"), b, 0)
		if c.rx.packets+c.rx.events > 2 {
			t.Fatalf("%d packets counted from 2 datagrams", c.rx.packets+c.rx.events)
		}
		_ = c.rx.lost()
	})
}

// FuzzKernelTime parses arbitrary control messages without panicking.
func FuzzKernelTime(f *testing.F) {
	f.Add([]byte{32, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 35, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, oob []byte) {
		_ = kernelTime(oob)
	})
}
