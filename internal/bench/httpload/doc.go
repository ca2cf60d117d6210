// Package httpload is the load generator of `recoverydesk bench http`:
// simulated clients that hold their own cookies and client address run a
// scenario (the recovery form, password login, the staff queue) against a
// running site for a duration or a number of iterations, and the run
// reports requests per second, latency percentiles (as the client saw
// them and, when the site sends a Server-Timing header, as the server
// did) and status counts.
//
// It imports no package of the project: the command wires the scenarios
// to the database (accounts to sign in, staff sessions, the jobs to
// verify), so the generator stays a leaf like internal/bench.
package httpload
