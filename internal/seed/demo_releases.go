package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// plannedRelease is one release of the demo set, computed before anything
// is written so that the plan is a pure function of the specs.
type plannedRelease struct {
	project  int // index into demoProjects()
	version  string
	at       time.Time
	uploader string
	ip       string
	files    []plannedFile
}

// plannedFile is one distribution file of a planned release.
type plannedFile struct {
	filename      string
	packageType   string
	pythonVersion string
	size          int64
}

// uploaderHosts gives each uploader a home address in 198.51.100.0/24
// (TEST-NET-2), so upload history shows a recognisable origin per person.
func uploaderHosts() map[string]int {
	return map[string]int{"bob": 23, "carol": 41, "dave": 57, "erin": 88}
}

// planReleases spreads releases from each project's creation to a week
// before the anchor, with semantic versions and a seeded PCG source: the
// same specs always give the same plan.
func planReleases(projects []projectSpec) []plannedRelease {
	rng := rand.New(rand.NewPCG(0x5eed, 20261101))
	hosts := uploaderHosts()
	end := anchor().AddDate(0, 0, -7)
	var out []plannedRelease
	for pi, p := range projects {
		t := p.roles[0].since.Add(randomDuration(rng, 2, 30))
		major, minor, patch := 0, 1, 0
		for i := 0; !t.After(end); i++ {
			if i > 0 {
				switch r := rng.IntN(20); {
				case r == 0:
					major, minor, patch = major+1, 0, 0
				case r < 7:
					minor, patch = minor+1, 0
				default:
					patch++
				}
			}
			version := fmt.Sprintf("%d.%d.%d", major, minor, patch)
			uploader := pickUploader(rng, p.roles, t)
			rel := plannedRelease{
				project: pi, version: version, at: t, uploader: uploader,
				ip: fmt.Sprintf("198.51.100.%d", hosts[uploader]+rng.IntN(3)),
			}
			sdist := p.sdistSize + int64(i)*p.sdistSize/15 + rng.Int64N(4096)
			rel.files = append(rel.files, plannedFile{
				filename: fmt.Sprintf("%s-%s.tar.gz", p.name, version), packageType: "sdist",
				pythonVersion: "source", size: sdist,
			})
			// Most releases also ship a wheel; a few early-style ones do not.
			if rng.IntN(5) != 0 {
				rel.files = append(rel.files, plannedFile{
					filename:    fmt.Sprintf("%s-%s-py3-none-any.whl", strings.ReplaceAll(p.name, "-", "_"), version),
					packageType: "bdist_wheel", pythonVersion: "py3", size: sdist*7/10 + rng.Int64N(2048),
				})
			}
			out = append(out, rel)
			t = t.Add(randomDuration(rng, 45, 300))
		}
	}
	return out
}

// pickUploader chooses among the users who held a role on the project at t.
func pickUploader(rng *rand.Rand, roles []roleSpec, t time.Time) string {
	var eligible []string
	for _, r := range roles {
		if !r.since.After(t) {
			eligible = append(eligible, r.username)
		}
	}
	return eligible[rng.IntN(len(eligible))]
}

// randomDuration is between minDays and maxDays days, to the minute.
func randomDuration(rng *rand.Rand, minDays, maxDays int) time.Duration {
	minutes := minDays*24*60 + rng.IntN((maxDays-minDays)*24*60)
	return time.Duration(minutes) * time.Minute
}
