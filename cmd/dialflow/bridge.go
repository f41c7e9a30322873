package main

import (
	"context"
	"errors"
	"time"

	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/sip"
)

// bridgeRingTimeout bounds the second leg's ringing.
const bridgeRingTimeout = 30 * time.Second

// bridge dials dest as a second leg through the trunk and connects the two
// calls' audio both ways until either side hangs up; the engine stays in
// the path, so the first leg's recording holds both parties. It returns the
// transfer status of the second leg.
func (sc *sessionCall) bridge(ctx context.Context, dest string) (string, error) {
	leg, err := sc.ua.Dial(ctx, sip.DialRequest{To: dest, Caller: sc.caller, RingTimeout: bridgeRingTimeout})
	if err != nil {
		return transferStatusOf(err), err
	}
	sm1, ok1 := sc.call.Media().(*sip.StreamMedia)
	sm2, ok2 := leg.Media().(*sip.StreamMedia)
	if !ok1 || !ok2 || sm2.Stream() == nil {
		_ = leg.Hangup(context.WithoutCancel(ctx))
		return flow.TransferFailed, errors.New("bridge: call media is not a stream")
	}
	other := sm2.Stream()
	// Each received frame is copied once and queued on the other leg,
	// which paces it out 20 ms at a time.
	sm1.SetOnAudio(func(pcm []int16) { other.Enqueue(append([]int16(nil), pcm...)) })
	sm2.SetOnAudio(func(pcm []int16) { sc.media.Enqueue(append([]int16(nil), pcm...)) })
	defer sm1.SetOnAudio(nil)
	defer sm2.SetOnAudio(nil)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	select {
	case <-sc.call.Done():
		_ = leg.Hangup(hctx)
	case <-leg.Done():
		_ = sc.call.Hangup(hctx)
	case <-ctx.Done():
		_ = leg.Hangup(hctx)
		_ = sc.call.Hangup(hctx)
	}
	return flow.TransferAnswered, nil
}

// transferStatusOf maps a failed second-leg dial to a transfer_status word.
func transferStatusOf(err error) string {
	var oc interface{ Outcome() string }
	if errors.As(err, &oc) {
		switch oc.Outcome() {
		case sip.OutcomeBusy:
			return flow.TransferBusy
		case sip.OutcomeDeclined:
			return flow.TransferDeclined
		case sip.OutcomeNoAnswer:
			return flow.TransferNoAnswer
		}
	}
	return flow.TransferFailed
}
