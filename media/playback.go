package media

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Playback is one queued prompt (or outgoing DTMF event) on a stream.
type Playback struct {
	s    *Stream
	pcm  []int16
	pos  int
	done chan struct{}
	once sync.Once
	err  error

	isEvent      bool
	eventCode    uint8
	eventSamples int
}

// Done is closed when the playback ended: fully played, stopped, or the
// stream closed.
func (p *Playback) Done() <-chan struct{} { return p.done }

// Err returns nil when the playback was played to the end, ErrInterrupted
// when it was stopped, ErrClosed when the stream closed first. It is only
// meaningful after Done is closed.
func (p *Playback) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Stop interrupts this playback (whether playing or still queued). Its
// Err becomes ErrInterrupted; other queued playbacks are untouched.
func (p *Playback) Stop() {
	p.s.playMu.Lock()
	defer p.s.playMu.Unlock()
	for i, q := range p.s.queue {
		if q == p {
			p.s.queue = append(p.s.queue[:i], p.s.queue[i+1:]...)
			p.finish(ErrInterrupted)
			return
		}
	}
}

func (p *Playback) finish(err error) {
	p.once.Do(func() {
		p.err = err
		close(p.done)
	})
}

// Enqueue queues 8 kHz mono PCM to play after what is already queued and
// returns at once. The stream keeps a reference to pcm until the playback
// ends: do not modify it meanwhile. A trailing partial frame is padded with
// silence.
func (s *Stream) Enqueue(pcm []int16) *Playback {
	p := &Playback{s: s, pcm: pcm, done: make(chan struct{})}
	s.push(p)
	return p
}

func (s *Stream) push(p *Playback) {
	s.lifeMu.Lock()
	closed := s.closed
	s.lifeMu.Unlock()
	if closed {
		p.finish(ErrClosed)
		return
	}
	s.playMu.Lock()
	s.queue = append(s.queue, p)
	s.playMu.Unlock()
	s.join() // a stream held for its first audio starts now
}

// Play plays pcm (8 kHz mono) after what is already queued and blocks
// until it was played (nil), interrupted by StopPlayback
// (ErrInterrupted), the stream closed (ErrClosed), or ctx ended (ctx's
// error; the prompt is then removed within one frame).
func (s *Stream) Play(ctx context.Context, pcm []int16) error {
	return s.wait(ctx, s.Enqueue(pcm))
}

func (s *Stream) wait(ctx context.Context, p *Playback) error {
	select {
	case <-p.Done(): // refused at once (stream closed)
		return fmt.Errorf("play: %w", p.Err())
	default:
	}
	if !s.isStarted() {
		p.Stop()
		return fmt.Errorf("play: %w", ErrNotStarted)
	}
	select {
	case <-p.Done():
		if err := p.Err(); err != nil {
			return fmt.Errorf("play: %w", err)
		}
		return nil
	case <-ctx.Done():
		p.Stop()
		return ctx.Err()
	}
}

// StopPlayback interrupts the playing prompt and drops everything queued
// (barge-in); their Err becomes ErrInterrupted. Silence follows from the
// next frame on. Queued DTMF events are dropped too, but an event already
// being sent is completed so the far end sees its end packets.
func (s *Stream) StopPlayback() {
	s.playMu.Lock()
	defer s.playMu.Unlock()
	for _, p := range s.queue {
		p.finish(ErrInterrupted)
	}
	s.queue = s.queue[:0]
}

// Playing reports whether a prompt or event is playing or queued.
func (s *Stream) Playing() bool {
	s.playMu.Lock()
	defer s.playMu.Unlock()
	return len(s.queue) > 0
}

func (s *Stream) isStarted() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.started && !s.closed
}

// nextAudio fills frame with the next 20 ms of the queue head, or silence.
// Finished prompts are completed here.
func (s *Stream) nextAudio(frame []int16) {
	s.playMu.Lock()
	defer s.playMu.Unlock()
	for len(s.queue) > 0 && !s.queue[0].isEvent {
		p := s.queue[0]
		if p.pos >= len(p.pcm) {
			s.queue = s.queue[1:]
			p.finish(nil)
			continue
		}
		n := copy(frame, p.pcm[p.pos:])
		clear(frame[n:])
		p.pos += n
		if p.pos >= len(p.pcm) {
			// Completed when its last frame leaves, not one frame later.
			s.queue = s.queue[1:]
			p.finish(nil)
		}
		return
	}
	clear(frame)
}

// nextEvent pops an event at the queue head, if any.
func (s *Stream) nextEvent() *Playback {
	s.playMu.Lock()
	defer s.playMu.Unlock()
	if len(s.queue) > 0 && s.queue[0].isEvent {
		p := s.queue[0]
		s.queue = s.queue[1:]
		return p
	}
	return nil
}

// SendDTMF sends key as an RFC 4733 telephone event lasting dur (rounded up
// to 20 ms, at least 40 ms), queued after what is playing, and blocks until
// its end packets were sent (3 of them, RFC 4733 §2.5.1.4). All packets of
// the event carry the timestamp at which it starts; the stream's timestamp
// keeps advancing 160 per 20 ms meanwhile, so audio that follows carries a
// timestamp advanced by the event's duration (plus its end retransmissions).
// It fails with ErrNoTelephoneEvent when no event payload type was
// negotiated: use SendDTMFInBand then.
func (s *Stream) SendDTMF(ctx context.Context, key rune, dur time.Duration) error {
	if s.cfg.EventPT == 0 {
		return fmt.Errorf("send dtmf: %w", ErrNoTelephoneEvent)
	}
	code, err := EventCode(key)
	if err != nil {
		return fmt.Errorf("send dtmf: %w", err)
	}
	n := max(Samples(dur), 2*FrameSamples)
	n = (n + FrameSamples - 1) / FrameSamples * FrameSamples
	p := &Playback{s: s, done: make(chan struct{}), isEvent: true, eventCode: code, eventSamples: n}
	s.push(p)
	if err := s.wait(ctx, p); err != nil {
		return fmt.Errorf("send dtmf: %w", err)
	}
	return nil
}

// InBandLevel is the peak amplitude of each sine in generated DTMF tones
// (about -12 dBFS per tone).
const InBandLevel = 8000

// SendDTMFInBand plays key as a dual tone lasting dur followed by 50 ms of
// silence, queued after what is playing, and blocks until played.
func (s *Stream) SendDTMFInBand(ctx context.Context, key rune, dur time.Duration) error {
	tone, err := DTMFTone(key, dur, InBandLevel)
	if err != nil {
		return fmt.Errorf("send dtmf in-band: %w", err)
	}
	tone = append(tone, make([]int16, Samples(50*time.Millisecond))...)
	return s.Play(ctx, tone)
}

// udpAddr converts for the generic net.PacketConn path (allocates).
func udpAddr(a netip.AddrPort) net.Addr { return net.UDPAddrFromAddrPort(a) }
