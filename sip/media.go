package sip

import (
	"net/netip"

	"github.com/dialflow/dialflow/media/sdp"
)

// Media is the RTP side of one call, as the UA needs it.
type Media interface {
	// LocalPort is the RTP port written into the SDP offer.
	LocalPort() int
	// Start begins sending and receiving with the negotiated parameters. It
	// may be called again (early media then the final answer, re-INVITE):
	// later calls update the remote address.
	Start(m sdp.Media) error
	// InjectDigit feeds a key received by SIP INFO into the DTMF stream.
	InjectDigit(key byte)
	// Close stops the media and releases its port.
	Close() error
}

// MediaOpener opens the media of a new call on ip within ports.
type MediaOpener func(ip netip.Addr, ports PortRange) (Media, error)
