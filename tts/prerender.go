package tts

import (
	"context"
	"sync"
)

// Item is one prompt to render ahead of time.
type Item struct {
	// Text is the prompt text, placeholders already substituted.
	Text string
	// Voice is the voice to render it with.
	Voice Voice
}

// Batch renders prompts in the background (while a phone rings) and hands
// them over when the call needs them. It is a Synthesizer: a prompt it
// rendered comes back at once, one still rendering is awaited, any other
// goes to the wrapped engine.
type Batch struct {
	next   Synthesizer
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	items  map[string]*flight
}

// Prerender starts rendering items with next, in order, on one goroutine
// that the returned Batch owns; call it when the INVITE goes out so the
// first prompts are ready at answer. Duplicate items render once, and
// items with an invalid voice are skipped here (Synthesize then reports
// the error). Close the batch when the call ends.
func Prerender(ctx context.Context, next Synthesizer, items []Item) *Batch {
	ctx, cancel := context.WithCancel(ctx)
	b := &Batch{next: next, cancel: cancel, items: map[string]*flight{}}
	var order []*flight
	var work []Item
	for _, it := range items {
		v, err := it.Voice.Normalize()
		if err != nil {
			continue
		}
		k := Key("", v, it.Text)
		if _, dup := b.items[k]; dup {
			continue
		}
		f := &flight{done: make(chan struct{})}
		b.items[k] = f
		order = append(order, f)
		work = append(work, Item{it.Text, v})
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for i, f := range order {
			f.pcm, f.err = next.Synthesize(ctx, work[i].Text, work[i].Voice)
			close(f.done)
		}
	}()
	return b
}

// Synthesize returns a prerendered prompt, waiting for it if it is still
// rendering, or renders it with the wrapped engine. The PCM is shared (with
// the wrapped engine's other callers too): it must not be modified.
func (b *Batch) Synthesize(ctx context.Context, text string, v Voice) ([]int16, error) {
	if nv, err := v.Normalize(); err == nil {
		b.mu.Lock()
		f := b.items[Key("", nv, text)]
		b.mu.Unlock()
		if f != nil {
			select {
			case <-f.done:
				if f.err == nil {
					return f.pcm, nil
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return b.next.Synthesize(ctx, text, v)
}

// Ready reports whether every prompt has finished rendering.
func (b *Batch) Ready() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.items {
		select {
		case <-f.done:
		default:
			return false
		}
	}
	return true
}

// Close stops rendering and waits for the background goroutine.
func (b *Batch) Close() {
	b.cancel()
	b.wg.Wait()
}
