package dialer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
	"github.com/dialflow/dialflow/store"
)

// A dialer over an SQLite store and a Placer that answers every call and
// runs nothing: submit one request and follow it to completion.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "dialflow-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	answer := dialer.PlacerFunc(func(ctx context.Context, c dialer.Call, p dialer.Progress) (dialer.Result, error) {
		p.Ringing()
		p.Answered()
		p.Step(flow.StepResult{StepName: "play", StepPath: "steps[0]", Info: flow.StepInfo{
			CallState: flow.CallStateOngoing, CallStatus: flow.CallStatusAnswered, Status: flow.StatusOK}})
		return dialer.Result{SIPCode: 200, HangupBy: dialer.ByEngine}, nil
	})
	d, err := dialer.New(dialer.Config{Capacity: 6}, db, answer)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := d.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()

	body := []byte(`{"requestId": "request_10",
		"destinations": [{"phone": "+84917660247", "properties": {"name": "Alex"}}],
		"callFlow": {"steps": [{"name": "play", "message": {"msg": "thanks {{name}}"}}]}}`)
	req, problems := flow.CheckRequest(body, flow.ValidateOptions{})
	if len(problems) > 0 {
		fmt.Println(problems)
		return
	}
	st, created, err := d.Submit(ctx, "api-key-1", body, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Status, created, st.Details[0].Status)
	for st.Status != dialer.RequestCompleted {
		time.Sleep(10 * time.Millisecond)
		st, _ = d.Status(ctx, "api-key-1", "request_10", 0, 0)
	}
	det := st.Details[0]
	fmt.Println(st.Status, det.Status, det.CallStatus, det.Attempts, det.SIPCode, det.CallFlowSteps[0].StepName)
	// Output:
	// submitted true queued
	// completed completed answered 1 200 play
}
