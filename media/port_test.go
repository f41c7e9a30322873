package media

import (
	"errors"
	"net"
	"testing"
)

func TestListenRTPRange(t *testing.T) {
	// Find a free even port pair region by asking the system, then use a
	// two-port range around it.
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	base := probe.LocalAddr().(*net.UDPAddr).Port &^ 1
	probe.Close()
	if base < 1024 {
		t.Skip("ephemeral port below 1024")
	}
	r := PortRange{Min: base, Max: base + 1} // one even port
	c, err := ListenRTP("127.0.0.1", r)
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", base, err)
	}
	defer c.Close()
	if p := c.LocalAddr().(*net.UDPAddr).Port; p != base {
		t.Fatalf("bound %d, want even port %d", p, base)
	}
	// The only even port is taken: a clear error.
	if _, err := ListenRTP("127.0.0.1", r); !errors.Is(err, ErrPortRange) {
		t.Fatalf("full range: %v", err)
	}
	for _, bad := range []PortRange{{Min: 10, Max: 20}, {Min: 30001, Max: 30001}, {Min: 40000, Max: 30000}, {Min: 1, Max: 70000}} {
		if _, err := ListenRTP("127.0.0.1", bad); !errors.Is(err, ErrPortRange) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := ListenRTP("not-an-ip", PortRange{}); err == nil {
		t.Error("bad ip accepted")
	}
}
