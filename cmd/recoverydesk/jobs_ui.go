package main

import (
	"fmt"
	"net/http"

	"riverqueue.com/riverui"

	"github.com/recoverydesk/recoverydesk/web"
)

// newJobsUI builds River's web UI for /admin/jobs (web.PathJobs) on the
// store's insert-only River client: the UI lists, retries, cancels and
// deletes jobs through the database and needs no running workers.
//
// The handler is not Started: Start only runs a background cache of job
// counts for tables past a million jobs, and without it the UI counts on
// each request, which is what this desk's job volume wants.
func newJobsUI(rt *runtime) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(rt.store.Jobs, nil),
		Logger:    rt.log.With("component", "riverui"),
		Prefix:    web.PathJobs,
	})
	if err != nil {
		return nil, fmt.Errorf("river UI: %w", err)
	}
	return h, nil
}
