package sdp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Static payload types of the codecs dialflow speaks (RFC 3551).
const (
	PayloadPCMU uint8 = 0
	PayloadPCMA uint8 = 8
	// DefaultDTMFPayload is the dynamic payload type dialflow offers for
	// telephone-event. The far end's answer may choose another one.
	DefaultDTMFPayload uint8 = 101
)

// MaxSize is the largest description Parse accepts.
const MaxSize = 64 << 10

// Direction values of the a=sendrecv family.
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// Format is one payload type of an m= line with its rtpmap, if any.
type Format struct {
	// Payload is the RTP payload type.
	Payload uint8
	// Name is the encoding name from a=rtpmap, upper case ("PCMU",
	// "TELEPHONE-EVENT"), or the static name for 0 and 8 without rtpmap.
	Name string
	// Rate is the clock rate from a=rtpmap (8000 for static 0 and 8).
	Rate int
}

// Description is the audio part of a parsed session description.
type Description struct {
	// Addr is the connection address of the audio stream (media c= line,
	// else session c= line).
	Addr netip.Addr
	// Port is the audio m= line's port; 0 means the stream is rejected.
	Port int
	// Formats lists the m= line's payload types in the order given.
	Formats []Format
	// Ptime is a=ptime in milliseconds, 0 when absent.
	Ptime int
	// Direction is sendrecv, sendonly, recvonly or inactive (default sendrecv).
	Direction string
}

// Media is the result of a negotiation: what to send and where.
type Media struct {
	// Remote is the far end's RTP address.
	Remote netip.AddrPort
	// Codec is the audio payload type to send: PayloadPCMU or PayloadPCMA.
	Codec uint8
	// CodecName is "PCMU" or "PCMA".
	CodecName string
	// DTMF is the telephone-event payload type, or -1 when not negotiated.
	DTMF int
	// Ptime is the packet time in milliseconds (20 unless the peer asked
	// for another).
	Ptime int
	// Direction is the far end's direction attribute.
	Direction string
}

// Params describes the local side written into an offer or an answer.
type Params struct {
	// Addr is the address written in o= and c= (the public IP behind NAT).
	Addr netip.Addr
	// Port is the local RTP port.
	Port int
	// SessionID and Version fill the o= line; a re-offer must raise Version.
	SessionID uint64
	Version   uint64
}

// Offer returns dialflow's offer: PCMU, PCMA and telephone-event/8000 with
// ptime 20, sendrecv, CRLF line endings.
func Offer(p Params) []byte {
	return write(p, []Format{
		{Payload: PayloadPCMU, Name: "PCMU", Rate: 8000},
		{Payload: PayloadPCMA, Name: "PCMA", Rate: 8000},
		{Payload: DefaultDTMFPayload, Name: "telephone-event", Rate: 8000},
	})
}

// Answer returns a description that answers the media m with the chosen codec
// and telephone-event payload type (as negotiated by Negotiate on the offer).
func Answer(p Params, m Media) []byte {
	f := []Format{{Payload: m.Codec, Name: m.CodecName, Rate: 8000}}
	if m.DTMF >= 0 {
		f = append(f, Format{Payload: uint8(m.DTMF), Name: "telephone-event", Rate: 8000})
	}
	return write(p, f)
}

func write(p Params, formats []Format) []byte {
	ipv := "IP4"
	if p.Addr.Is6() && !p.Addr.Is4In6() {
		ipv = "IP6"
	}
	addr := p.Addr.Unmap().String()
	var b bytes.Buffer
	b.WriteString("v=0\r\n")
	fmt.Fprintf(&b, "o=dialflow %d %d IN %s %s\r\n", p.SessionID, p.Version, ipv, addr)
	b.WriteString("s=dialflow\r\n")
	fmt.Fprintf(&b, "c=IN %s %s\r\n", ipv, addr)
	b.WriteString("t=0 0\r\n")
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", p.Port)
	for _, f := range formats {
		fmt.Fprintf(&b, " %d", f.Payload)
	}
	b.WriteString("\r\n")
	for _, f := range formats {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", f.Payload, f.Name, f.Rate)
		if strings.EqualFold(f.Name, "telephone-event") {
			fmt.Fprintf(&b, "a=fmtp:%d 0-16\r\n", f.Payload)
		}
	}
	b.WriteString("a=ptime:20\r\n")
	b.WriteString("a=sendrecv\r\n")
	return b.Bytes()
}

// Parse reads the audio part of a session description. Errors name the line.
func Parse(b []byte) (*Description, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(b), MaxSize)
	}
	var (
		d          Description
		sessAddr   netip.Addr
		mediaAddr  netip.Addr
		inAudio    bool
		seenAudio  bool
		inOther    bool
		sawVersion bool
	)
	d.Direction = SendRecv
	rtpmap := map[uint8]Format{}
	lines := strings.Split(string(b), "\n")
	for i, raw := range lines {
		line := strings.TrimRight(raw, "\r")
		if line == "" {
			continue
		}
		n := i + 1
		if len(line) < 2 || line[1] != '=' {
			return nil, fmt.Errorf("%w: line %d: %q is not <type>=<value>", ErrMalformed, n, clip(line))
		}
		val := line[2:]
		switch line[0] {
		case 'v':
			if val != "0" {
				return nil, fmt.Errorf("%w: line %d: unsupported version %q", ErrMalformed, n, clip(val))
			}
			sawVersion = true
		case 'c':
			a, err := parseConn(val)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrMalformed, n, err)
			}
			switch {
			case inAudio:
				mediaAddr = a
			case !seenAudio && !inOther:
				sessAddr = a
			}
		case 'm':
			inAudio, inOther = false, true
			f := strings.Fields(val)
			if len(f) < 3 {
				return nil, fmt.Errorf("%w: line %d: m= needs media, port and proto", ErrMalformed, n)
			}
			if f[0] != "audio" || seenAudio {
				continue
			}
			portStr, _, _ := strings.Cut(f[1], "/")
			port, err := strconv.Atoi(portStr)
			if err != nil || port < 0 || port > 65535 {
				return nil, fmt.Errorf("%w: line %d: bad port %q", ErrMalformed, n, clip(f[1]))
			}
			d.Port = port
			for _, pt := range f[3:] {
				v, err := strconv.Atoi(pt)
				if err != nil || v < 0 || v > 127 {
					return nil, fmt.Errorf("%w: line %d: bad payload type %q", ErrMalformed, n, clip(pt))
				}
				d.Formats = append(d.Formats, Format{Payload: uint8(v)})
			}
			inAudio, inOther, seenAudio = true, false, true
		case 'a':
			if !inAudio && (inOther || seenAudio) {
				continue
			}
			name, arg, _ := strings.Cut(val, ":")
			switch name {
			case "rtpmap":
				if !inAudio {
					continue
				}
				ptStr, enc, ok := strings.Cut(arg, " ")
				pt, err := strconv.Atoi(ptStr)
				if !ok || err != nil || pt < 0 || pt > 127 {
					return nil, fmt.Errorf("%w: line %d: bad rtpmap %q", ErrMalformed, n, clip(arg))
				}
				parts := strings.Split(strings.TrimSpace(enc), "/")
				rate := 0
				if len(parts) > 1 {
					rate, err = strconv.Atoi(parts[1])
					if err != nil || rate <= 0 {
						return nil, fmt.Errorf("%w: line %d: bad clock rate in rtpmap %q", ErrMalformed, n, clip(arg))
					}
				}
				rtpmap[uint8(pt)] = Format{Payload: uint8(pt), Name: strings.ToUpper(parts[0]), Rate: rate}
			case "ptime":
				if !inAudio {
					continue
				}
				v, err := strconv.Atoi(strings.TrimSpace(arg))
				if err != nil || v <= 0 || v > 1000 {
					return nil, fmt.Errorf("%w: line %d: bad ptime %q", ErrMalformed, n, clip(arg))
				}
				d.Ptime = v
			case SendRecv, SendOnly, RecvOnly, Inactive:
				d.Direction = name
			}
		}
	}
	if !sawVersion {
		return nil, fmt.Errorf("%w: missing v=0 line", ErrMalformed)
	}
	if !seenAudio {
		return nil, ErrNoAudio
	}
	for i, f := range d.Formats {
		if m, ok := rtpmap[f.Payload]; ok {
			d.Formats[i] = m
			continue
		}
		switch f.Payload {
		case PayloadPCMU:
			d.Formats[i] = Format{Payload: PayloadPCMU, Name: "PCMU", Rate: 8000}
		case PayloadPCMA:
			d.Formats[i] = Format{Payload: PayloadPCMA, Name: "PCMA", Rate: 8000}
		}
	}
	d.Addr = sessAddr
	if mediaAddr.IsValid() {
		d.Addr = mediaAddr
	}
	return &d, nil
}

func parseConn(val string) (netip.Addr, error) {
	f := strings.Fields(val)
	if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return netip.Addr{}, fmt.Errorf("bad connection line %q", clip(val))
	}
	host, _, _ := strings.Cut(f[2], "/") // strip multicast TTL
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad connection address %q", clip(host))
	}
	return a, nil
}

// Negotiate picks the media to use from the far end's description d: the
// first PCMU or PCMA format in d's order, and the telephone-event/8000 payload
// type if d lists one. It works on an answer (to learn what the far end
// chose) and on an offer (to choose, as the phone does).
func Negotiate(d *Description) (Media, error) {
	m := Media{DTMF: -1, Ptime: 20, Direction: d.Direction}
	if d.Ptime > 0 {
		m.Ptime = d.Ptime
	}
	found := false
	for _, f := range d.Formats {
		switch {
		case !found && (f.Name == "PCMU" || f.Name == "PCMA") && (f.Rate == 8000 || f.Rate == 0):
			m.Codec, m.CodecName, found = f.Payload, f.Name, true
		case f.Name == "TELEPHONE-EVENT" && f.Rate == 8000 && m.DTMF < 0:
			m.DTMF = int(f.Payload)
		}
	}
	if !found {
		return Media{}, ErrNoCommonCodec
	}
	if d.Port == 0 {
		return Media{}, fmt.Errorf("%w: audio port is 0 (stream rejected)", ErrNoCommonCodec)
	}
	if !d.Addr.IsValid() {
		return Media{}, ErrNoAddress
	}
	m.Remote = netip.AddrPortFrom(d.Addr.Unmap(), uint16(d.Port))
	return m, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
