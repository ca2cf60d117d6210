package web

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientIP is the address rate limits and security events name. Directly
// connected, it is the socket's. From a trusted proxy, it is the rightmost
// X-Forwarded-For entry that is not itself a trusted proxy: proxies append
// the address they saw, so everything to its left came from the client
// and may be made up (Fiber's c.IP() with a proxy header returns the whole
// header, which gave a client a fresh rate-limit bucket per request).
func (h *handler) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.Context().RemoteIP().String()
	}
	peer = peer.Unmap()
	if !h.trusted(peer) {
		return peer.String()
	}
	entries := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(entries) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(entries[i]))
		if err != nil {
			// Garbage where an address should be: the proxy did not
			// write it, so nothing further left can be believed.
			break
		}
		if a = a.Unmap(); !h.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

func (h *handler) trusted(a netip.Addr) bool {
	for _, p := range h.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseProxies reads TRUSTED_PROXIES (IPs or CIDRs, validated by config).
func parseProxies(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}
