package media

import "sync/atomic"

// Stats are a stream's counters since NewStream.
type Stats struct {
	// PacketsSent and BytesSent count RTP packets (audio and events) and
	// their UDP payload bytes.
	PacketsSent, BytesSent uint64
	// SendErrors counts packets the socket refused.
	SendErrors uint64
	// EventsSent counts telephone-event packets (included in PacketsSent).
	EventsSent uint64
	// FramesSkipped counts 20 ms slots skipped after a long stall.
	FramesSkipped uint64
	// PacketsReceived and BytesReceived count valid RTP packets accepted
	// from the remote (audio and events).
	PacketsReceived, BytesReceived uint64
	// Lost counts audio packets never received in time (filled with
	// silence); Late those that arrived after their gap was filled;
	// Duplicate those received twice.
	Lost, Late, Duplicate uint64
	// Malformed counts datagrams that are not valid RTP (dropped).
	Malformed uint64
	// UnexpectedSource counts packets from an address other than the
	// remote, dropped before latching.
	UnexpectedSource uint64
	// UnknownPayload counts RTP packets with a payload type that is
	// neither the audio codecs nor telephone-event (dropped).
	UnknownPayload uint64
	// SSRCChanges counts changes of the remote's SSRC; Restarts counts
	// sequence jumps treated as a sender restart.
	SSRCChanges, Restarts uint64
	// Latches counts how often the stream moved its remote to a new source.
	Latches uint64
	// Digits counts delivered digits; DigitsMerged those dropped as the
	// same press carried by another method; DigitsDropped those lost to a
	// full Digits channel.
	Digits, DigitsMerged, DigitsDropped uint64
}

type counters struct {
	packetsSent, bytesSent, sendErrors, eventsSent, framesSkipped atomic.Uint64
	packetsReceived, bytesReceived                                atomic.Uint64
	lost, late, duplicate, restarts                               atomic.Uint64
	malformed, unexpectedSource, unknownPayload                   atomic.Uint64
	ssrcChanges, latches                                          atomic.Uint64
	digits, digitsMerged, digitsDropped                           atomic.Uint64
}

// Stats returns a snapshot of the stream's counters.
func (s *Stream) Stats() Stats {
	c := &s.stats
	return Stats{
		PacketsSent: c.packetsSent.Load(), BytesSent: c.bytesSent.Load(), SendErrors: c.sendErrors.Load(),
		EventsSent: c.eventsSent.Load(), FramesSkipped: c.framesSkipped.Load(),
		PacketsReceived: c.packetsReceived.Load(), BytesReceived: c.bytesReceived.Load(),
		Lost: c.lost.Load(), Late: c.late.Load(), Duplicate: c.duplicate.Load(), Restarts: c.restarts.Load(),
		Malformed: c.malformed.Load(), UnexpectedSource: c.unexpectedSource.Load(), UnknownPayload: c.unknownPayload.Load(),
		SSRCChanges: c.ssrcChanges.Load(), Latches: c.latches.Load(),
		Digits: c.digits.Load(), DigitsMerged: c.digitsMerged.Load(), DigitsDropped: c.digitsDropped.Load(),
	}
}
