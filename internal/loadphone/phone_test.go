package loadphone_test

import (
	"context"
	"testing"
	"time"

	"github.com/dialflow/dialflow/internal/loadphone"
	"github.com/dialflow/dialflow/media"
	"github.com/dialflow/dialflow/sip"
)

// One real call over loopback SIP/RTP: dialflow's UA dials the load phone,
// plays a tone after a second of silence, receives the phone's RFC 4733
// press and hangs up; the phone's report shows what it measured.
func TestCallMeasured(t *testing.T) {
	for _, audio := range []bool{false, true} {
		t.Run(map[bool]string{false: "press only", true: "with audio"}[audio], func(t *testing.T) {
			p, err := loadphone.New(loadphone.Config{RingFor: 50 * time.Millisecond, DigitAfter: 1500 * time.Millisecond, Digit: '7', SendAudio: audio})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			pacer := media.NewPacer(media.PacerConfig{})
			pacer.Start()
			defer pacer.Close()
			ua, err := sip.NewUA(sip.Config{Listen: "127.0.0.1:0", Trunk: p.TrunkURI(), Media: sip.StreamMediaOpener(pacer, nil)})
			if err != nil {
				t.Fatal(err)
			}
			defer ua.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := ua.Dial(ctx, sip.DialRequest{To: "+15551230000"})
			if err != nil {
				t.Fatal(err)
			}
			s := c.Media().(*sip.StreamMedia).Stream()
			time.Sleep(time.Second)
			s.Enqueue(media.Tone(440, 8000, 8000))
			select {
			case d := <-s.Digits():
				if d.Key != '7' || d.Method != media.RFC4733 {
					t.Errorf("digit %c by %v, want 7 by rfc4733", d.Key, d.Method)
				}
			case <-ctx.Done():
				t.Fatal("no digit from the load phone")
			}
			time.Sleep(100 * time.Millisecond) // the last end packets
			if err := c.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Second)
			for p.Progress().Ended < 1 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			r := p.Report()
			if r.Invites != 1 || r.Answered != 1 || r.Ended != 1 || r.DigitsSent != 1 {
				t.Fatalf("report %+v", r)
			}
			if r.Frames < 50 || r.FramesLost != 0 || r.SeqGaps != 0 {
				t.Errorf("frames %d lost %d gaps %d; want ≥ 50 frames (1.5 s) none lost", r.Frames, r.FramesLost, r.SeqGaps)
			}
			if r.AnswerToPrompt.P50 < 900 || r.AnswerToPrompt.P50 > 2000 {
				t.Errorf("answer→prompt %.1f ms, want about 1000 (the tone starts after 1 s of silence)", r.AnswerToPrompt.P50)
			}
			if r.AnswerToRTP.P50 > 500 || r.Lateness.Max <= 0 || r.NoPrompt != 0 {
				t.Errorf("answer→rtp %.1f ms, lateness %+v, noPrompt %d", r.AnswerToRTP.P50, r.Lateness, r.NoPrompt)
			}
			if got := r.EventPackets; got != 8 {
				t.Errorf("event packets %d, want 5 + 3 end", got)
			}
			if audio != (r.AudioSent > 0) {
				t.Errorf("audio sent %d with SendAudio=%v", r.AudioSent, audio)
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []loadphone.Config{{Loss: 1.5}, {Digit: 'x'}} {
		if _, err := loadphone.New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
