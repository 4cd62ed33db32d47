package feeds

// APIBAN (apiban.org) shares the addresses of SIP scanners its honeypots
// see. Its API, as its own clients use it: POST {root}get with the header
// "Authorization: Bearer KEY" and the JSON body {"set":"sip","id":"ID"}.
// The answer is {"ipaddress":[...],"ID":"NEXT"}; the next request asks from
// NEXT, until the server answers {"ipaddress":["no new bans"],"ID":"none"}
// (with HTTP 400). Asking from id "100" returns the whole current list.
// A 429 means "slow down"; ignoring it earns an IP ban (418) that grows
// from 2 minutes to 3 days, so voicewall pauses between pages, waits out
// a 429 (Retry-After when given) at most a few times, and stops at a 418.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/voicewall/voicewall/lang"
)

// DefaultAPIBANURL is APIBAN's API root.
const DefaultAPIBANURL = "https://apiban.org/api/"

// apibanFirstID asks for the whole current list (the value APIBAN's own
// clients start from).
const apibanFirstID = "100"

const (
	apibanMaxPages   = 1000 // far more than the list's size needs; ends a server that never says "none"
	apibanMaxRetries = 3    // 429s waited out per refresh
	apibanMaxWait    = 5 * time.Minute
	apibanDefault429 = time.Minute
)

type apibanAnswer struct {
	IPs []string `json:"ipaddress"`
	ID  string   `json:"ID"`
}

// ReadKey reads an API key file: the first line, trimmed. The file must not
// be readable by others than its owner (the key is a credential).
func ReadKey(path string) (string, error) {
	f, st, err := lang.OpenRegular(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the key file: %w", err)
	}
	defer f.Close()
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("the key file %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	b := make([]byte, 4096)
	n, _ := f.Read(b)
	key, _, _ := strings.Cut(string(b[:n]), "\n")
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", fmt.Errorf("the key file %s holds no key (one line, no spaces)", path)
	}
	return key, nil
}

// FetchAPIBAN downloads the current list of an APIBAN set, one address a
// line. The candidate then goes through the same validation and guards as
// any feed.
func (f *Fetcher) FetchAPIBAN(ctx context.Context, set, keyFile string) ([]byte, error) {
	key, err := ReadKey(keyFile)
	if err != nil {
		return nil, refuse(ReasonAPI, "APIBAN: %v", err)
	}
	root := f.APIBANURL
	if root == "" {
		root = DefaultAPIBANURL
	}
	if !strings.HasSuffix(root, "/") {
		root += "/"
	}
	if !strings.HasPrefix(root, "https://") {
		return nil, refuse(ReasonScheme, "APIBAN's API root %s is not https", printable(root))
	}
	pause := f.APIBANPause
	if pause == 0 {
		pause = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout()+apibanMaxRetries*apibanMaxWait)
	defer cancel()
	budget := f.maxBytes()
	var out bytes.Buffer
	id, retries := apibanFirstID, 0
	for page := 0; ; page++ {
		if page >= apibanMaxPages {
			return nil, refuse(ReasonAPI, "APIBAN sent more than %d pages without saying \"no new bans\"", apibanMaxPages)
		}
		if page > 0 {
			if err := f.sleep(ctx, pause); err != nil {
				return nil, refuse(ReasonDownload, "APIBAN: %v", err)
			}
		}
		ans, wait, err := f.apibanPage(ctx, root, key, set, id, &budget)
		if wait > 0 {
			if retries++; retries > apibanMaxRetries {
				return nil, refuse(ReasonAPI, "APIBAN kept answering 429 (rate limit) after %d waits; the old list stays until the next refresh", apibanMaxRetries)
			}
			if err := f.sleep(ctx, wait); err != nil {
				return nil, refuse(ReasonDownload, "APIBAN: %v", err)
			}
			page--
			continue
		}
		if err != nil {
			return nil, err
		}
		if ans.ID == "none" {
			break
		}
		if ans.ID == "" || ans.ID == id {
			return nil, refuse(ReasonAPI, "APIBAN answered without a new ID (%q after %q): the list would never end", printable(ans.ID), printable(id))
		}
		for _, ip := range ans.IPs {
			out.WriteString(ip)
			out.WriteByte('\n')
		}
		id = ans.ID
	}
	return out.Bytes(), nil
}

// apibanPage asks for one page. wait > 0 asks the caller to wait that long
// and ask again (429).
func (f *Fetcher) apibanPage(ctx context.Context, root, key, set, id string, budget *int64) (*apibanAnswer, time.Duration, error) {
	q, _ := json.Marshal(map[string]string{"set": set, "id": id})
	req, err := http.NewRequest(http.MethodPost, root+"get", bytes.NewReader(q))
	if err != nil {
		return nil, 0, refuse(ReasonScheme, "APIBAN: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "voicewall-refresh")
	body, resp, err := f.get(ctx, req, budget)
	var r *Refusal
	if err != nil && errors.As(err, &r) && r.Reason == ReasonStatus && resp != nil {
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			return nil, retryAfter(resp.Header.Get("Retry-After")), nil
		case http.StatusTeapot:
			return nil, 0, refuse(ReasonAPI, "APIBAN has banned this address for ignoring its rate limit (HTTP 418); it lifts the ban by itself (2 minutes to 3 days), the old list stays meanwhile")
		case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusUnauthorized:
			// The end of the list and a bad key both come as 4xx with a
			// small JSON body: it is searched for the two markers only.
			ans := &apibanAnswer{}
			if json.Unmarshal(r.statusBody, ans) == nil && ans.ID == "none" {
				return &apibanAnswer{ID: "none"}, 0, nil
			}
			if ans.ID == "unauthorized" || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
				return nil, 0, refuse(ReasonAPI, "APIBAN refused the key (HTTP %d): check the key file", resp.StatusCode)
			}
		}
	}
	if err != nil {
		return nil, 0, err
	}
	ans := &apibanAnswer{}
	if err := json.Unmarshal(body, ans); err != nil {
		return nil, 0, refuse(ReasonFormat, "APIBAN's answer is not its JSON: %v", err)
	}
	return ans, 0, nil
}

func retryAfter(h string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, apibanMaxWait)
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, apibanMaxWait)
		}
	}
	return apibanDefault429
}
