package media_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/dialflow/dialflow/media"
)

// Two streams on loopback: one plays a prompt and presses a key, the other
// receives the digit.
func Example() {
	ca, _ := media.ListenRTP("127.0.0.1", media.PortRange{})
	cb, _ := media.ListenRTP("127.0.0.1", media.PortRange{})
	addr := func(c *net.UDPConn) net.Addr { return c.LocalAddr() }
	caller, _ := media.NewStream(ca, media.StreamConfig{
		Remote: addr(cb).(*net.UDPAddr).AddrPort(), Codec: media.PCMU, EventPT: 101,
	})
	ivr, _ := media.NewStream(cb, media.StreamConfig{
		Remote: addr(ca).(*net.UDPAddr).AddrPort(), Codec: media.PCMU, EventPT: 101,
	})
	defer caller.Close()
	defer ivr.Close()
	_ = caller.Start()
	_ = ivr.Start()

	ctx := context.Background()
	_ = ivr.Play(ctx, media.Tone(440, 8000, media.Samples(100*time.Millisecond)))
	_ = caller.SendDTMF(ctx, '7', 80*time.Millisecond)
	d := <-ivr.Digits()
	fmt.Println(string(d.Key), d.Method)
	// Output: 7 rfc4733
}
