package imapsync

import (
	"math/rand/v2"
	"time"
)

// backoff is the wait before the next reconnect: it doubles after each
// failure from min up to max, and each wait is drawn from its upper half
// so that workers dropped together do not reconnect in step.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

func newBackoff(min, max time.Duration) *backoff {
	return &backoff{min: min, max: max, next: min}
}

// wait returns the delay to use now and doubles the next one.
func (b *backoff) wait() time.Duration {
	d := b.next
	b.next = min(b.next*2, b.max)
	half := d / 2
	return half + rand.N(half+1)
}

// reset starts over at min, after a connection that worked.
func (b *backoff) reset() { b.next = b.min }
