package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Run endings, in Result.Ended.
const (
	// EndCompleted: the steps ran out and the engine hung up.
	EndCompleted = "completed"
	// EndHangupStep: a hangup step ended the call.
	EndHangupStep = "hangup"
	// EndTransferred: a transfer was answered; the call left the engine.
	EndTransferred = "transferred"
	// EndCalleeHangup: the callee hung up during a step.
	EndCalleeHangup = "calleeHangup"
	// EndCancelled: ctx ended (max duration, cancel, shutdown).
	EndCancelled = "cancelled"
)

// RunOptions tune a run.
type RunOptions struct {
	// OnStep, when set, receives each step result as soon as it is decided
	// (a gather's result before its branch runs), so progress can be stored live.
	OnStep func(StepResult)
	// Now is the clock used for digit timings; nil means time.Now.
	Now func() time.Time
}

// Result is what a run did.
type Result struct {
	// Steps are the step results in the order the steps ran.
	Steps []StepResult
	// Ended says why the run stopped (EndCompleted, EndHangupStep, ...).
	Ended string
	// Err is the context error when Ended is EndCancelled.
	Err error
}

// errStop ends the run after the step that returned it.
var errStop = errors.New("stop")

type runner struct {
	ch     Channel
	opts   RunOptions
	result Result
}

// Run executes f on ch: steps in order, gather branches recursively, and a
// final Hangup when the steps run out. It never returns an error: what went
// wrong is in the step statuses and Result.Ended.
func Run(ctx context.Context, f *Flow, ch Channel, opts RunOptions) Result {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &runner{ch: ch, opts: opts}
	err := r.flow(ctx, f, "", 1)
	switch {
	case err == nil:
		r.result.Ended = EndCompleted
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = ch.Hangup(hctx)
		cancel()
	case errors.Is(err, errStop):
	default:
		r.result.Ended = EndCancelled
		r.result.Err = err
	}
	return r.result
}

func (r *runner) emit(name, path string, info StepInfo) {
	if info.CallState == "" {
		info.CallState = CallStateOngoing
	}
	info.CallStatus = CallStatusAnswered
	sr := StepResult{StepName: name, StepPath: path, Info: info}
	r.result.Steps = append(r.result.Steps, sr)
	if r.opts.OnStep != nil {
		r.opts.OnStep(sr)
	}
}

// end records a step that ended the call and stops the run.
func (r *runner) end(name, path, why string, info StepInfo) error {
	info.CallState = CallStateEnded
	r.emit(name, path, info)
	r.result.Ended = why
	return errStop
}

func (r *runner) flow(ctx context.Context, f *Flow, prefix string, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("flow nests deeper than %d levels", MaxDepth)
	}
	for i := range f.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := index(prefix+"steps", i)
		if err := r.step(ctx, &f.Steps[i], path, depth); err != nil {
			return err
		}
	}
	return nil
}

// classify turns a Channel error into: stop for hangup, the ctx error when
// the run is cancelled, or nil when the step merely failed.
func (r *runner) hungUp(ctx context.Context, err error) (bool, error) {
	if errors.Is(err, ErrHangup) {
		return true, nil
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return false, nil
}

func (r *runner) step(ctx context.Context, s *Step, path string, depth int) error {
	switch s.Name {
	case StepPlay:
		err := r.ch.Play(ctx, promptOf(s))
		if err == nil {
			r.emit(s.Name, path, StepInfo{Status: StatusOK})
			return nil
		}
		if hung, cerr := r.hungUp(ctx, err); hung {
			return r.end(s.Name, path, EndCalleeHangup, StepInfo{Status: StatusHangup})
		} else if cerr != nil {
			return cerr
		}
		r.emit(s.Name, path, StepInfo{Status: StatusTTS})
		return nil
	case StepGather:
		return r.gather(ctx, s, path, depth)
	case StepTransfer:
		st, err := r.ch.Transfer(ctx, Transfer{Destination: s.Destination, Mode: modeOf(s)})
		if err != nil {
			if hung, cerr := r.hungUp(ctx, err); hung {
				return r.end(s.Name, path, EndCalleeHangup, StepInfo{Status: StatusHangup, TransferStatus: st})
			} else if cerr != nil {
				return cerr
			}
		}
		if err == nil && st == TransferAnswered {
			return r.end(s.Name, path, EndTransferred, StepInfo{Status: StatusOK, TransferStatus: st})
		}
		if st == "" || st == TransferAnswered {
			st = TransferFailed
		}
		r.emit(s.Name, path, StepInfo{Status: StatusTransferFailed, TransferStatus: st})
		return nil
	case StepPause:
		err := r.ch.Pause(ctx, time.Duration(s.Seconds*float64(time.Second)))
		if err != nil {
			if hung, cerr := r.hungUp(ctx, err); hung {
				return r.end(s.Name, path, EndCalleeHangup, StepInfo{Status: StatusHangup})
			} else if cerr != nil {
				return cerr
			}
		}
		r.emit(s.Name, path, StepInfo{Status: StatusOK})
		return nil
	case StepHangup:
		err := r.ch.Hangup(ctx)
		if errors.Is(err, ErrHangup) {
			return r.end(s.Name, path, EndCalleeHangup, StepInfo{Status: StatusHangup})
		}
		return r.end(s.Name, path, EndHangupStep, StepInfo{Status: StatusOK})
	}
	r.emit(s.Name, path, StepInfo{Status: StatusSkipped})
	return nil
}

func promptOf(s *Step) Prompt {
	p := Prompt{Message: s.Message, Audio: s.Audio, Loop: s.Loop}
	if p.Loop < 1 {
		p.Loop = 1
	}
	if p.Message != nil {
		m := *p.Message
		m.Lang, m.Gender = orDefault(m.Lang, DefaultLang), orDefault(m.Gender, DefaultGender)
		if m.Pitch == nil {
			v := DefaultPitch
			m.Pitch = &v
		}
		if m.Rate == nil {
			v := DefaultRate
			m.Rate = &v
		}
		p.Message = &m
	}
	return p
}

func modeOf(s *Step) string { return orDefault(s.Mode, ModeRefer) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// GatherOptionsOf returns the effective collection options of a gather step.
func GatherOptionsOf(s *Step) GatherOptions {
	o := GatherOptions{
		NumDigits:         s.NumDigits,
		Timeout:           s.Timeout,
		InterDigitTimeout: s.InterDigitTimeout,
		FinishOnKey:       s.FinishOnKey,
		BargeIn:           true,
	}
	if o.NumDigits <= 0 {
		o.NumDigits = 1
		for _, b := range s.Branches {
			if len(b.Digit) > o.NumDigits {
				o.NumDigits = len(b.Digit)
			}
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultGatherTimeout
	}
	if o.InterDigitTimeout <= 0 {
		o.InterDigitTimeout = DefaultInterDigitTimeout
	}
	switch o.FinishOnKey {
	case "":
		o.FinishOnKey = DefaultFinishOnKey
	case "none":
		o.FinishOnKey = ""
	}
	if o.FinishOnKey != "" {
		for _, b := range s.Branches {
			if strings.Contains(b.Digit, o.FinishOnKey) {
				o.FinishOnKey = ""
				break
			}
		}
	}
	return o
}

func (r *runner) gather(ctx context.Context, s *Step, path string, depth int) error {
	opts := GatherOptionsOf(s)
	tries := s.MaxRetries
	if tries <= 0 {
		tries = DefaultMaxRetries
	}
	def := -1
	hasDigits := false
	for j, b := range s.Branches {
		if b.Default {
			def = j
		}
		if b.Digit != "" {
			hasDigits = true
		}
	}
	prompt := promptOf(s)
	var all []DigitInfo
	status := StatusNoInput
	keys := ""
	for attempt := 1; attempt <= tries; attempt++ {
		d, err := r.ch.Gather(ctx, prompt, opts)
		all = append(all, d.Each...)
		if err != nil {
			if hung, cerr := r.hungUp(ctx, err); hung {
				return r.end(s.Name, path, EndCalleeHangup, StepInfo{Status: StatusHangup,
					UserPressedDigits: d.Keys, Attempts: attempt, Digits: all})
			} else if cerr != nil {
				return cerr
			}
			if errors.Is(err, ErrTTS) {
				r.emit(s.Name, path, StepInfo{Status: StatusTTS, Attempts: attempt, Digits: all})
				return nil
			}
		}
		keys = d.Keys
		for j, b := range s.Branches {
			if b.Digit != "" && b.Digit == d.Keys {
				return r.branch(ctx, s, path, depth, j, StepInfo{Status: StatusOK,
					UserPressedDigits: keys, Branch: b.Digit, Attempts: attempt, Digits: all})
			}
		}
		if d.Keys != "" && !hasDigits && def >= 0 {
			// A gather whose only way out is the default takes any input.
			return r.branch(ctx, s, path, depth, def, StepInfo{Status: StatusOK,
				UserPressedDigits: keys, Branch: "default", Attempts: attempt, Digits: all})
		}
		if d.Keys == "" {
			status = StatusNoInput
		} else {
			status = StatusInvalidInput
		}
		if attempt == tries {
			if def >= 0 {
				return r.branch(ctx, s, path, depth, def, StepInfo{Status: StatusOK,
					UserPressedDigits: keys, Branch: "default", Attempts: attempt, Digits: all})
			}
			r.emit(s.Name, path, StepInfo{Status: status, UserPressedDigits: keys, Attempts: attempt, Digits: all})
			return nil
		}
	}
	return nil
}

// branch records the gather's result, then runs the chosen branch's flow.
func (r *runner) branch(ctx context.Context, s *Step, path string, depth, j int, info StepInfo) error {
	r.emit(s.Name, path, info)
	prefix := index(path+".branches", j) + "."
	return r.flow(ctx, &s.Branches[j].CallFlow, prefix, depth+1)
}
