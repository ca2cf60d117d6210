package desk

import (
	"time"

	"github.com/recoverydesk/recoverydesk/ent"
	"github.com/recoverydesk/recoverydesk/ent/supportcase"
)

// SLA is how long the desk may take on a kind of case.
type SLA struct {
	// FirstResponse is the time from opening to the first public reply.
	FirstResponse time.Duration
	// Resolution is the time from opening to a decision.
	Resolution time.Duration
}

// SLAPolicy is the SLA of each kind of case.
type SLAPolicy struct {
	Recovery, General SLA
}

// DefaultSLA is the policy when none is configured: recovery requests are
// answered within a day and decided within five; general questions get
// twice as long.
var DefaultSLA = SLAPolicy{
	Recovery: SLA{FirstResponse: 24 * time.Hour, Resolution: 120 * time.Hour},
	General:  SLA{FirstResponse: 48 * time.Hour, Resolution: 240 * time.Hour},
}

func (p SLAPolicy) withDefaults() SLAPolicy {
	if p.Recovery.FirstResponse <= 0 || p.Recovery.Resolution <= 0 {
		p.Recovery = DefaultSLA.Recovery
	}
	if p.General.FirstResponse <= 0 || p.General.Resolution <= 0 {
		p.General = DefaultSLA.General
	}
	return p
}

// For returns the SLA of kind.
func (p SLAPolicy) For(kind supportcase.Kind) SLA {
	p = p.withDefaults()
	if kind == supportcase.KindGeneral {
		return p.General
	}
	return p.Recovery
}

// Deadlines are a case's SLA deadlines from when it opened.
type Deadlines struct {
	FirstResponse, Resolution time.Time
}

// DeadlinesFor returns the deadlines of a case of kind opened at opened.
func (p SLAPolicy) DeadlinesFor(kind supportcase.Kind, opened time.Time) Deadlines {
	s := p.For(kind)
	return Deadlines{FirstResponse: opened.Add(s.FirstResponse), Resolution: opened.Add(s.Resolution)}
}

// Settled reports whether status ends the desk's work on a case, which
// stops its SLA clock.
func Settled(status supportcase.Status) bool {
	switch status {
	case supportcase.StatusResolved, supportcase.StatusDenied, supportcase.StatusClosed:
		return true
	}
	return false
}

// nextDue is the deadline the queue sorts c by: the first-response
// deadline until someone replied, then the resolution deadline; none
// once the case is settled or waits for a scheduled reset to run.
func nextDue(c *ent.SupportCase) *time.Time {
	if Settled(c.Status) || c.Status == supportcase.StatusResetScheduled {
		return nil
	}
	if c.FirstRespondedAt == nil && c.FirstResponseDue != nil {
		return c.FirstResponseDue
	}
	return c.ResolutionDue
}
