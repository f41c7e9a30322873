package loadphone

import (
	"slices"
	"time"
)

// Lateness histogram: 50 µs bins. A call's own histogram spans offsets
// from -200 ms to +400 ms around its first packet; the aggregate spans 0 to
// 600 ms of lateness.
const (
	binWidth  = 50 * time.Microsecond
	histLow   = -200 * time.Millisecond
	histBins  = int((600 * time.Millisecond) / binWidth)
	nsPerTick = int64(time.Second / 8000) // one RTP timestamp unit at 8 kHz
)

// rxStats is what one call's received RTP showed. It belongs to the receive
// goroutine while the call lives (guarded by call.mu).
type rxStats struct {
	packets   uint64
	events    uint64
	frames    uint64 // audio frames received (new timestamps)
	seqGaps   uint64
	started   bool
	lastSeq   uint16
	lastTS    uint32
	extTS     int64 // unwrapped timestamp of the last packet
	firstTS   int64
	maxTS     int64
	off0      int64 // arrival - ts of the first packet, ns
	minD      int64 // min and max of (offset - off0), ns
	maxD      int64
	hist      []uint16
	firstRTP  time.Time
	firstTalk time.Time
}

// audio records one audio packet that arrived at t (unix ns).
func (r *rxStats) audio(seq uint16, ts uint32, arrival int64, talk bool) {
	r.packets++
	if !r.started {
		r.started = true
		r.lastSeq, r.lastTS = seq, ts
		r.extTS, r.firstTS, r.maxTS = 0, 0, 0
		r.off0 = arrival
		r.frames = 1
		r.hist = make([]uint16, histBins)
		r.bin(0)
		r.firstRTP = time.Unix(0, arrival)
		if talk {
			r.firstTalk = r.firstRTP
		}
		return
	}
	if d := seq - r.lastSeq; d > 1 && d < 0x8000 {
		r.seqGaps += uint64(d - 1)
	}
	r.lastSeq = seq
	r.extTS += int64(int32(ts - r.lastTS))
	r.lastTS = ts
	if r.extTS > r.maxTS {
		r.maxTS = r.extTS
		r.frames++
	}
	d := arrival - r.extTS*nsPerTick - r.off0
	r.minD = min(r.minD, d)
	r.maxD = max(r.maxD, d)
	r.bin(d)
	if talk && r.firstTalk.IsZero() {
		r.firstTalk = time.Unix(0, arrival)
	}
}

func (r *rxStats) bin(d int64) {
	i := int((time.Duration(d) - histLow) / binWidth)
	i = max(0, min(i, histBins-1))
	if r.hist[i] < 0xffff {
		r.hist[i]++
	}
}

// lost returns the audio frames the timestamps say were sent but never
// arrived (dropped on the way or skipped by the sender after a stall).
func (r *rxStats) lost() uint64 {
	if !r.started {
		return 0
	}
	want := uint64((r.maxTS-r.firstTS)/160) + 1
	if want < r.frames {
		return 0
	}
	return want - r.frames
}

// Quantiles summarises a distribution in milliseconds.
type Quantiles struct {
	P50 float64 `json:"p50Ms"`
	P99 float64 `json:"p99Ms"`
	Max float64 `json:"maxMs"`
}

// Report is what the phone saw over its life.
type Report struct {
	Invites  int `json:"invites"`
	Answered int `json:"answered"`
	Ended    int `json:"ended"`
	// ByeSent counts calls the phone hung up itself (MaxCall reached).
	ByeSent int `json:"byeSent"`
	// SetupRate is INVITEs per second between the first and the last.
	SetupRate float64 `json:"setupRate"`
	// Packets and Frames count received RTP packets and audio frames;
	// FramesLost is audio frames missing by timestamp, SeqGaps packets
	// missing by sequence number.
	Packets    uint64 `json:"packets"`
	Frames     uint64 `json:"frames"`
	FramesLost uint64 `json:"framesLost"`
	SeqGaps    uint64 `json:"seqGaps"`
	// Foreign counts packets from addresses of no live call; Malformed
	// packets that were not RTP.
	Foreign   uint64 `json:"foreign"`
	Malformed uint64 `json:"malformed"`
	// Lateness is how late packets arrived against their own call's
	// schedule (the RTP timestamp clock anchored at the call's earliest
	// packet), measured with kernel receive timestamps.
	Lateness Quantiles `json:"lateness"`
	// AnswerToRTP is from sending 200 OK to the first RTP packet;
	// AnswerToPrompt to the first packet carrying sound.
	AnswerToRTP    Quantiles `json:"answerToRtp"`
	AnswerToPrompt Quantiles `json:"answerToPrompt"`
	// NoPrompt counts answered calls that never carried sound.
	NoPrompt int `json:"noPrompt"`
	// DigitsSent counts RFC 4733 presses started; EventPackets and
	// EventDropped count their packets sent and deliberately dropped.
	DigitsSent   int    `json:"digitsSent"`
	EventPackets uint64 `json:"eventPackets"`
	EventDropped uint64 `json:"eventDropped"`
	// AudioSent and AudioDropped count the phone's own audio packets.
	AudioSent    uint64 `json:"audioSent"`
	AudioDropped uint64 `json:"audioDropped"`
	// SendErrors counts packets the socket refused.
	SendErrors uint64 `json:"sendErrors"`
}

// aggregate gathers finished calls.
type aggregate struct {
	Report
	late      []uint64
	toRTP     []time.Duration
	toPrompt  []time.Duration
	firstInv  time.Time
	lastInv   time.Time
	maxLateNs int64
}

func (a *aggregate) add(r *rxStats, answered time.Time) {
	a.Packets += r.packets
	a.Frames += r.frames
	a.FramesLost += r.lost()
	a.SeqGaps += r.seqGaps
	if !r.started {
		a.NoPrompt++
		return
	}
	if a.late == nil {
		a.late = make([]uint64, histBins)
	}
	shift := int((time.Duration(r.minD) - histLow) / binWidth)
	for i, n := range r.hist {
		if n != 0 {
			a.late[max(0, min(i-shift, histBins-1))] += uint64(n)
		}
	}
	a.maxLateNs = max(a.maxLateNs, r.maxD-r.minD)
	a.toRTP = append(a.toRTP, r.firstRTP.Sub(answered))
	if r.firstTalk.IsZero() {
		a.NoPrompt++
	} else {
		a.toPrompt = append(a.toPrompt, r.firstTalk.Sub(answered))
	}
}

func (a *aggregate) report() Report {
	rep := a.Report
	if rep.Invites > 1 && a.lastInv.After(a.firstInv) {
		rep.SetupRate = float64(rep.Invites-1) / a.lastInv.Sub(a.firstInv).Seconds()
	}
	rep.Lateness = histQuantiles(a.late)
	rep.Lateness.Max = ms(time.Duration(a.maxLateNs))
	rep.AnswerToRTP = durQuantiles(a.toRTP)
	rep.AnswerToPrompt = durQuantiles(a.toPrompt)
	return rep
}

func histQuantiles(h []uint64) Quantiles {
	var total uint64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return Quantiles{}
	}
	at := func(q float64) float64 {
		want := uint64(q * float64(total))
		var seen uint64
		for i, n := range h {
			seen += n
			if seen > want {
				return ms(time.Duration(i) * binWidth)
			}
		}
		return ms(time.Duration(len(h)) * binWidth)
	}
	return Quantiles{P50: at(0.50), P99: at(0.99)}
}

func durQuantiles(d []time.Duration) Quantiles {
	if len(d) == 0 {
		return Quantiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) float64 { return ms(s[min(len(s)-1, int(q*float64(len(s))))]) }
	return Quantiles{P50: at(0.50), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
