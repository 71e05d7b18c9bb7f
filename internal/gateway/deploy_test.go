package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// Checks of deploy/ (docs/operating.md): the Kubernetes manifests parse
// and hold what running the gateway needs, and the Grafana dashboard only
// queries metrics the gateway exports.

var (
	manifestsDir  = filepath.Join(repoRoot, "deploy", "kubernetes")
	dashboardPath = filepath.Join(repoRoot, "deploy", "grafana", "gateway-dashboard.json")
)

// manifests parses every YAML document under deploy/kubernetes, by kind.
func manifests(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manifestsDir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]map[string]any{}
	for _, f := range files {
		r, err := os.Open(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(r)
		for n := 0; n < 100; n++ {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, f)
			kind, _ := doc["kind"].(string)
			require.NotEmpty(t, kind, "%s: a document without kind", f)
			require.NotContains(t, out, kind, "one %s only", kind)
			doc["_file"] = filepath.Base(f)
			out[kind] = doc
		}
		require.NoError(t, r.Close())
	}
	return out
}

// strs converts a decoded YAML or JSON list to strings.
func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestManifestsHoldEveryKindAndKustomizeListsThem(t *testing.T) {
	docs := manifests(t)
	for _, kind := range []string{"Kustomization", "ServiceAccount", "ConfigMap", "Secret", "Deployment", "Service",
		"HorizontalPodAutoscaler", "PodDisruptionBudget"} {
		assert.Contains(t, docs, kind)
	}
	resources := strs(docs["Kustomization"]["resources"])
	for kind, doc := range docs {
		file := doc["_file"].(string)
		switch kind {
		case "Kustomization":
		case "Secret":
			assert.NotContains(t, resources, file, "the example Secret is never applied")
		default:
			assert.Contains(t, resources, file, kind)
		}
	}
}

func TestDeploymentProbesSecurityAndResources(t *testing.T) {
	docs := manifests(t)
	d := docs["Deployment"]
	pod := dig(d, "spec", "template", "spec")
	containers := dig(pod, "containers").([]any)
	require.Len(t, containers, 1)
	c := containers[0]

	assert.True(t, strings.HasPrefix(dig(c, "image").(string), "groupdir/gateway"))
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
		assert.Equal(t, path, dig(c, probe, "httpGet", "path"), probe)
		assert.Equal(t, "http", dig(c, probe, "httpGet", "port"), probe)
	}
	assert.Equal(t, "http", dig(c, "ports", 0, "name"))
	assert.Equal(t, 8080, dig(c, "ports", 0, "containerPort"))

	assert.Equal(t, true, dig(pod, "securityContext", "runAsNonRoot"))
	assert.Equal(t, "RuntimeDefault", dig(pod, "securityContext", "seccompProfile", "type"))
	assert.Equal(t, false, dig(pod, "automountServiceAccountToken"))
	assert.Equal(t, true, dig(c, "securityContext", "readOnlyRootFilesystem"))
	assert.Equal(t, false, dig(c, "securityContext", "allowPrivilegeEscalation"))
	assert.Equal(t, []string{"ALL"}, strs(dig(c, "securityContext", "capabilities", "drop")))
	for _, kind := range []string{"requests", "limits"} {
		for _, res := range []string{"cpu", "memory"} {
			assert.NotEmpty(t, dig(c, "resources", kind, res), "%s.%s", kind, res)
		}
	}

	assert.Equal(t, "gateway-config", dig(c, "envFrom", 0, "configMapRef", "name"))
	assert.Equal(t, "gateway-credentials", dig(c, "envFrom", 1, "secretRef", "name"))
	assert.Equal(t, "gateway-config", dig(docs["ConfigMap"], "metadata", "name"))
	assert.Equal(t, "gateway-credentials", dig(docs["Secret"], "metadata", "name"))
	assert.Equal(t, "gateway", dig(pod, "serviceAccountName"))
	assert.Equal(t, "gateway", dig(docs["ServiceAccount"], "metadata", "name"))
}

func TestServiceHPAAndPDBTargetTheDeployment(t *testing.T) {
	docs := manifests(t)
	d := docs["Deployment"]
	podLabels := dig(d, "spec", "template", "metadata", "labels").(map[string]any)
	matches := func(selector any) bool {
		sel := selector.(map[string]any)
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	assert.True(t, matches(dig(d, "spec", "selector", "matchLabels")))
	assert.True(t, matches(dig(docs["Service"], "spec", "selector")))
	assert.Equal(t, "http", dig(docs["Service"], "spec", "ports", 0, "targetPort"))
	assert.True(t, matches(dig(docs["PodDisruptionBudget"], "spec", "selector", "matchLabels")))
	assert.Equal(t, 1, dig(docs["PodDisruptionBudget"], "spec", "minAvailable"))

	hpa := docs["HorizontalPodAutoscaler"]
	assert.Equal(t, "autoscaling/v2", hpa["apiVersion"])
	assert.Equal(t, dig(d, "metadata", "name"), dig(hpa, "spec", "scaleTargetRef", "name"))
	assert.Equal(t, "Deployment", dig(hpa, "spec", "scaleTargetRef", "kind"))
	assert.Equal(t, "cpu", dig(hpa, "spec", "metrics", 0, "resource", "name"))
	assert.GreaterOrEqual(t, dig(hpa, "spec", "minReplicas"), 2, "the PDB can always keep one pod")
}

func TestConfigMapAndSecretMakeAValidProductionConfiguration(t *testing.T) {
	docs := manifests(t)
	env := map[string]string{}
	for _, doc := range []map[string]any{docs["ConfigMap"]["data"].(map[string]any), docs["Secret"]["stringData"].(map[string]any)} {
		for k, v := range doc {
			env[k] = v.(string)
		}
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.False(t, cfg.Demo, "never demo mode in a cluster")
	assert.Equal(t, envProduction, cfg.Env)
	assert.True(t, cfg.LogJSON)

	secret := docs["Secret"]["stringData"].(map[string]any)
	keys := make([]string, 0, len(secret))
	for k, v := range secret {
		keys = append(keys, k)
		if k != "USERGROUP_COMPANY_ID" {
			assert.True(t, strings.HasPrefix(v.(string), "replace-with-"), "%s holds a placeholder", k)
		}
	}
	slices.Sort(keys)
	assert.Equal(t, []string{"GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET", "USERGROUP_COMPANY_ID", "USERGROUP_INTEGRATION_KEY"}, keys)
	for k := range docs["ConfigMap"]["data"].(map[string]any) {
		assert.NotContains(t, keys, k, "a credential in the ConfigMap")
	}
}

// dashboard is the part of the Grafana dashboard the test reads.
type dashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

var metricName = regexp.MustCompile(`\bgateway_[a-z0-9_]+`)

// baseName is the family a series name belongs to (histogram series end in
// _bucket, _sum or _count).
func baseName(series string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(series, suffix); ok {
			return b
		}
	}
	return series
}

func TestDashboardQueriesOnlyExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(dashboardPath)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d))
	assert.NotEmpty(t, d.UID)
	assert.NotEmpty(t, d.Title)

	used := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		assert.NotEmpty(t, p.Title)
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, target := range p.Targets {
			names := metricName.FindAllString(target.Expr, -1)
			assert.NotEmpty(t, names, "panel %q queries no gateway metric", p.Title)
			for _, n := range names {
				used[baseName(n)] = true
			}
		}
	}

	e := setup(t, nil)
	scriptedRun(t, e)
	fams := e.scrape()
	for name := range used {
		assert.Contains(t, fams, name, "the dashboard queries %s, which the gateway does not export", name)
	}
	for _, panel := range []string{"gateway_graphql_requests_total", "gateway_graphql_errors_total",
		"gateway_graphql_request_duration_seconds", "gateway_graphql_upstream_calls", "gateway_upstream_breaker_state",
		"gateway_upstream_rate_limit_per_minute"} {
		assert.True(t, used[panel], "the dashboard shows %s", panel)
	}
}

func TestRedisComponentWiresTheSharedRedis(t *testing.T) {
	dir := filepath.Join(manifestsDir, "components", "redis")
	read := func(name string, v any) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.NoError(t, yaml.Unmarshal(b, v), name)
	}
	var comp map[string]any
	read("kustomization.yaml", &comp)
	assert.Equal(t, "Component", comp["kind"])
	assert.ElementsMatch(t, []string{"statefulset.yaml", "service.yaml"}, strs(comp["resources"]))

	var svc, sts map[string]any
	read("service.yaml", &svc)
	read("statefulset.yaml", &sts)
	name := dig(svc, "metadata", "name")
	assert.Equal(t, name, dig(sts, "spec", "serviceName"))
	args := strings.Join(strs(dig(sts, "spec", "template", "spec", "containers", 0, "args")), " ")
	assert.Contains(t, args, "--appendonly yes", "records survive a restart of the pod")
	assert.Contains(t, args, "--maxmemory-policy noeviction", "a record is never evicted before its TTL")

	var patch []map[string]any
	read("deployment-patch.yaml", &patch)
	var url string
	for _, op := range patch {
		if dig(op, "value", "name") == "REDIS_URL" {
			url, _ = dig(op, "value", "value").(string)
		}
	}
	require.NotEmpty(t, url, "the patch sets REDIS_URL")
	assert.Contains(t, url, "@"+name.(string)+":6379/", "REDIS_URL names the Service")
	_, err := LoadConfig(func(k string) string {
		if k == "REDIS_URL" {
			return strings.ReplaceAll(url, "$(REDIS_PASSWORD)", "0123abcd")
		}
		return ""
	})
	assert.NoError(t, err)
}
