package genesys

import (
	"slices"
	"strings"

	"github.com/groupdir/gateway/upstream"
)

// regionDomains are the Genesys Cloud region domains, sorted (the API host
// is api.<domain>, the login host login.<domain>); the comment names the
// region.
var regionDomains = []string{
	"apne2.pure.cloud",       // ap-northeast-2
	"apne3.pure.cloud",       // ap-northeast-3
	"aps1.pure.cloud",        // ap-south-1
	"apse1.pure.cloud",       // ap-southeast-1
	"cac1.pure.cloud",        // ca-central-1
	"edee1.eusc-pure.cloud",  // eusc-de-east-1
	"euc2.pure.cloud",        // eu-central-2
	"euw2.pure.cloud",        // eu-west-2
	"mec1.pure.cloud",        // me-central-1
	"mxc1.pure.cloud",        // mx-central-1
	"mypurecloud.com",        // us-east-1
	"mypurecloud.com.au",     // ap-southeast-2
	"mypurecloud.de",         // eu-central-1
	"mypurecloud.ie",         // eu-west-1
	"mypurecloud.jp",         // ap-northeast-1
	"sae1.pure.cloud",        // sa-east-1
	"use2.us-gov-pure.cloud", // us-east-2 (US government)
	"usw2.pure.cloud",        // us-west-2
}

// RegionURLs returns the API and login base URLs of the Genesys Cloud region
// whose domain is given (e.g. "mypurecloud.ie" gives
// "https://api.mypurecloud.ie" and "https://login.mypurecloud.ie"). Case and
// surrounding spaces are ignored. An unknown domain is an
// *upstream.InputError listing the known ones (see Regions).
func RegionURLs(domain string) (apiURL, loginURL string, err error) {
	d := strings.ToLower(strings.TrimSpace(domain))
	if !slices.Contains(regionDomains, d) {
		return "", "", &upstream.InputError{Field: "region",
			Reason: "unknown Genesys region domain; known domains: " + strings.Join(regionDomains, ", ")}
	}
	return "https://api." + d, "https://login." + d, nil
}

// Regions returns the known region domains, sorted.
func Regions() []string {
	return slices.Clone(regionDomains)
}
