// Package workers holds the River workers: thin, typed adapters that call
// account, desk and mailbox. The job-args types belong to the domain
// package that enqueues them; this package only runs them. register.go
// lists every worker and periodic job in one place.
package workers
