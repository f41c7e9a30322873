package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dialflow/dialflow/internal/loadphone"
	"github.com/dialflow/dialflow/sip/siptest"
)

// runPhone is `dialflow phone`: a scripted callee for tests and labs that
// prints one JSON line per event on stdout until interrupted.
func runPhone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("phone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5080", "UDP address to listen on (port 0 picks one)")
	answerAfter := fs.Duration("answer-after", time.Second, "ring this long before answering or rejecting")
	reject := fs.String("reject", "", "reject every call: busy (486) or decline (603)")
	noAnswer := fs.Bool("no-answer", false, "ring until the caller cancels")
	dtmf := fs.String("dtmf", "", `keys to send after the answer, e.g. "2s:1,5s:0"`)
	dtmfMethod := fs.String("dtmf-method", siptest.MethodRFC4733, "how to send keys: rfc4733, inband or info")
	hangupAfter := fs.Duration("hangup-after", 0, "hang up this long after the answer (0: never)")
	record := fs.String("record", "", "record what the phone hears to this WAV file (call N>1 gets -N before .wav)")
	user := fs.String("user", "", "demand digest authentication with this user")
	password := fs.String("password", "", "password for --user")
	verbose := fs.Bool("v", false, "log SIP details to stderr")
	load := fs.Bool("load", false, "load mode: answer many calls cheaply on one RTP socket, press --load-digit once per call, print progress and a measurement report as JSON lines")
	loadDigit := fs.String("load-digit", "1:21s", "load mode: key and delay after the answer, KEY:DURATION")
	loadAudio := fs.Bool("load-audio", true, "load mode: send silence every 20 ms like a handset (false: only the press)")
	loadLoss := fs.Float64("load-loss", 0, "load mode: drop this fraction of the phone's own RTP packets at random (0..1)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dialflow phone --listen ADDR [--answer-after 1s] [--reject busy|decline] [--no-answer]\n"+
			"                      [--dtmf \"2s:1,5s:0\"] [--dtmf-method rfc4733|inband|info] [--hangup-after 20s] [--record heard.wav]\n\n"+
			"A scripted SIP callee. Prints one JSON line per event (invite, ringing, answered, dtmf_sent, bye, refer, ...).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "phone: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if *load {
		key, after, err := parseLoadDigit(*loadDigit)
		if err != nil {
			fmt.Fprintf(stderr, "phone: --load-digit: %v\n", err)
			return errUsage
		}
		return runLoadPhone(ctx, loadphone.Config{Listen: *listen, RingFor: *answerAfter, Digit: key, DigitAfter: after,
			SendAudio: *loadAudio, Loss: *loadLoss, MaxCall: *hangupAfter}, stdout, stderr)
	}
	steps, err := siptest.ParseDTMFScript(*dtmf)
	if err != nil {
		fmt.Fprintf(stderr, "phone: --dtmf: %v\n", err)
		return errUsage
	}
	switch *reject {
	case "", siptest.RejectBusy, siptest.RejectDecline:
	default:
		fmt.Fprintf(stderr, "phone: --reject %q: want busy or decline\n", *reject)
		return errUsage
	}
	switch *dtmfMethod {
	case siptest.MethodRFC4733, siptest.MethodInband, siptest.MethodInfo:
	default:
		fmt.Fprintf(stderr, "phone: --dtmf-method %q: want rfc4733, inband or info\n", *dtmfMethod)
		return errUsage
	}
	if (*user == "") != (*password == "") {
		fmt.Fprintln(stderr, "phone: --user and --password go together")
		return errUsage
	}
	if *noAnswer && *reject != "" {
		fmt.Fprintln(stderr, "phone: --no-answer and --reject exclude each other")
		return errUsage
	}
	script := siptest.CallScript{AnswerAfter: *answerAfter, Reject: *reject, NoAnswer: *noAnswer,
		DTMF: steps, DTMFMethod: *dtmfMethod, HangupAfter: *hangupAfter}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	var mu sync.Mutex
	n := 0
	p, err := siptest.NewPhone(siptest.PhoneConfig{
		Listen: *listen, Username: *user, Password: *password, Events: stdout,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		Decide: func(siptest.InviteInfo) siptest.CallScript {
			s := script
			if *record != "" {
				mu.Lock()
				n++
				s.Record = numbered(*record, n)
				mu.Unlock()
			}
			return s
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "phone listening on udp %s (dial %s)\n", p.Addr(), p.URI("1000"))
	<-ctx.Done()
	fmt.Fprintf(stderr, "phone stopping: %d calls, peak %d concurrent\n", p.Total(), p.Peak())
	if err := p.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// numbered returns path for the first call and path with -N before the
// extension for later ones.
func numbered(path string, n int) string {
	if n == 1 {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + fmt.Sprintf("-%d", n) + ext
}
