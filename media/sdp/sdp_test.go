package sdp

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestOfferRoundTrip(t *testing.T) {
	b := Offer(Params{Addr: netip.MustParseAddr("203.0.113.7"), Port: 20002, SessionID: 5, Version: 1})
	s := string(b)
	for _, want := range []string{
		"c=IN IP4 203.0.113.7\r\n", "m=audio 20002 RTP/AVP 0 8 101\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n", "a=fmtp:101 0-16\r\n", "a=ptime:20\r\n", "a=sendrecv\r\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("offer lacks %q:\n%s", want, s)
		}
	}
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Negotiate(d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Codec != PayloadPCMU || m.CodecName != "PCMU" || m.DTMF != 101 || m.Ptime != 20 ||
		m.Remote != netip.MustParseAddrPort("203.0.113.7:20002") {
		t.Errorf("negotiated %+v", m)
	}
}

func TestNegotiateAnswers(t *testing.T) {
	cases := []struct {
		name, sdp string
		codec     uint8
		dtmf      int
		remote    string
	}{
		{"sipp pcmu", "v=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\n", 0, 101, "127.0.0.1:6000"},
		{"pcma, pt 96, media c", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 96\r\nc=IN IP4 10.0.0.9\r\na=rtpmap:96 telephone-event/8000\r\na=ptime:30\r\n", 8, 96, "10.0.0.9:4000"},
		{"static without rtpmap, no dtmf", "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 5 RTP/AVP 18 8\r\n", 8, -1, "192.0.2.1:5"},
		{"video first", "v=0\r\nc=IN IP4 192.0.2.1\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 7 RTP/AVP 0\r\n", 0, -1, "192.0.2.1:7"},
		{"ipv6", "v=0\r\nc=IN IP6 ::1\r\nm=audio 7 RTP/AVP 0\r\n", 0, -1, "[::1]:7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse([]byte(c.sdp))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Negotiate(d)
			if err != nil {
				t.Fatal(err)
			}
			if m.Codec != c.codec || m.DTMF != c.dtmf || m.Remote.String() != c.remote {
				t.Errorf("got codec %d dtmf %d remote %s", m.Codec, m.DTMF, m.Remote)
			}
		})
	}
}

func TestAnswerEchoesChoice(t *testing.T) {
	m := Media{Codec: PayloadPCMA, CodecName: "PCMA", DTMF: 96}
	d, err := Parse(Answer(Params{Addr: netip.MustParseAddr("127.0.0.1"), Port: 9}, m))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Negotiate(d)
	if err != nil {
		t.Fatal(err)
	}
	if got.Codec != PayloadPCMA || got.DTMF != 96 || len(d.Formats) != 2 {
		t.Errorf("answer negotiates to %+v (formats %v)", got, d.Formats)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, sdp string
		want      error
		mention   string
	}{
		{"empty", "", ErrMalformed, "v=0"},
		{"garbage line", "v=0\r\nhello\r\n", ErrMalformed, "line 2"},
		{"no audio", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5 RTP/AVP 96\r\n", ErrNoAudio, ""},
		{"bad port", "v=0\r\nm=audio 99999 RTP/AVP 0\r\n", ErrMalformed, "line 2"},
		{"bad pt", "v=0\r\nm=audio 5 RTP/AVP 300\r\n", ErrMalformed, "payload type"},
		{"bad c", "v=0\r\nc=IN IP4 not-an-ip\r\n", ErrMalformed, "line 2"},
		{"bad rtpmap", "v=0\r\nm=audio 5 RTP/AVP 0\r\na=rtpmap:x PCMU/8000\r\n", ErrMalformed, "line 3"},
		{"huge", "v=0\r\n" + strings.Repeat("a=x\r\n", MaxSize/5+1), ErrMalformed, "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.sdp))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not mention %q", err, c.mention)
			}
		})
	}
}

func TestNegotiateRefusals(t *testing.T) {
	for name, s := range map[string]string{
		"only g729": "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 18\r\n",
		"port 0":    "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n",
		"pcmu 16k":  "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n",
	} {
		d, err := Parse([]byte(s))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := Negotiate(d); !errors.Is(err, ErrNoCommonCodec) {
			t.Errorf("%s: err = %v, want ErrNoCommonCodec", name, err)
		}
	}
	d, _ := Parse([]byte("v=0\r\nm=audio 5 RTP/AVP 0\r\n"))
	if _, err := Negotiate(d); !errors.Is(err, ErrNoAddress) {
		t.Errorf("no c= line: err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Offer(Params{Addr: netip.MustParseAddr("127.0.0.1"), Port: 4000}))
	f.Add([]byte("v=0\nc=IN IP4 1.2.3.4\nm=audio 5 RTP/AVP 8 96\na=rtpmap:96 telephone-event/8000\na=ptime:30\na=recvonly\n"))
	f.Add([]byte("v=0\r\nc=IN IP6 ::1/127\r\nm=audio 5/2 RTP/AVP 0\r\nm=audio 6 RTP/AVP 8\r\n"))
	f.Add([]byte("v=0\r\na=rtpmap:0 PCMU\r\nm=audio 5 RTP/AVP\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			if d != nil {
				t.Fatal("description returned with an error")
			}
			return
		}
		m, err := Negotiate(d)
		if err != nil {
			return
		}
		if m.Codec != PayloadPCMU && m.Codec != PayloadPCMA && m.CodecName == "" {
			t.Fatalf("negotiated unknown codec %+v", m)
		}
		// An answer built from a negotiation must itself parse and negotiate the same way.
		d2, err := Parse(Answer(Params{Addr: m.Remote.Addr(), Port: int(m.Remote.Port())}, m))
		if err != nil {
			t.Fatalf("own answer does not parse: %v", err)
		}
		m2, err := Negotiate(d2)
		if err != nil || m2.Codec != m.Codec || m2.DTMF != m.DTMF || m2.Remote != m.Remote {
			t.Fatalf("answer renegotiates to %+v (%v), want %+v", m2, err, m)
		}
	})
}
