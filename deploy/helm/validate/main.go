// Command validate checks rendered Kubernetes manifests offline: every YAML document is decoded
// strictly into the Kubernetes API's own Go types (k8s.io/api from the Go module proxy: unknown
// fields, duplicate fields and wrong types are errors), and plutarc's invariants are checked: every
// container has liveness and readiness probes, resource requests and limits, runs as non-root on a
// read-only root filesystem, sets no environment variable twice, and every named port a probe or
// Service refers to exists.
//
//	validate FILE...   (or - for standard input); exit 1 with one line per error.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ServiceMonitor is the subset of monitoring.coreos.com/v1 the chart renders; a field beyond it is
// reported as unknown, so the subset grows with the chart.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []struct {
			Port          string `json:"port,omitempty"`
			Path          string `json:"path,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func (in *ServiceMonitor) DeepCopyObject() runtime.Object { c := *in; return &c }

var serviceMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, policyv1.AddToScheme,
		rbacv1.AddToScheme, networkingv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	s.AddKnownTypeWithName(serviceMonitorGVK, &ServiceMonitor{})
	return s
}

type document struct {
	source string // file:line of the document's start
	body   []byte
}

// split cuts a YAML stream at its `---` lines, keeping where each document starts.
func split(name string, r io.Reader) ([]document, error) {
	var docs []document
	var cur bytes.Buffer
	start, line := 1, 0
	flush := func() {
		if strings.TrimSpace(stripComments(cur.String())) != "" {
			docs = append(docs, document{fmt.Sprintf("%s:%d", name, start), append([]byte(nil), cur.Bytes()...)})
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "---" || strings.HasPrefix(text, "--- ") {
			flush()
			start = line + 1
			continue
		}
		cur.WriteString(text)
		cur.WriteByte('\n')
	}
	flush()
	return docs, sc.Err()
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

type checker struct {
	scheme   *runtime.Scheme
	errs     []string
	kinds    map[string]int
	pods     []podOwner
	services []*corev1.Service
}

type podOwner struct {
	where string
	tmpl  *corev1.PodTemplateSpec
}

func (c *checker) fail(where, format string, args ...any) {
	c.errs = append(c.errs, where+": "+fmt.Sprintf(format, args...))
}

func (c *checker) document(d document) {
	js, err := yaml.YAMLToJSONStrict(d.body)
	if err != nil {
		c.fail(d.source, "not YAML: %v", err)
		return
	}
	var tm metav1.TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
		c.fail(d.source, "not an object: %v", err)
		return
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil || tm.Kind == "" {
		c.fail(d.source, "no apiVersion and kind (apiVersion=%q kind=%q)", tm.APIVersion, tm.Kind)
		return
	}
	gvk := gv.WithKind(tm.Kind)
	obj, err := c.scheme.New(gvk)
	if err != nil {
		c.fail(d.source, "unknown kind %s", gvk)
		return
	}
	strict, err := kjson.UnmarshalStrict(js, obj)
	if err != nil {
		c.fail(d.source, "%s: %v", tm.Kind, err)
		return
	}
	for _, e := range strict {
		c.fail(d.source, "%s: %v", tm.Kind, e)
	}
	meta, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	where := fmt.Sprintf("%s %s/%s", d.source, tm.Kind, meta.GetName())
	if len(strict) > 0 {
		return
	}
	c.kinds[tm.Kind]++
	for _, msg := range validation.IsDNS1123Subdomain(meta.GetName()) {
		c.fail(where, "metadata.name: %s", msg)
	}
	for k, v := range meta.GetLabels() {
		for _, msg := range validation.IsQualifiedName(k) {
			c.fail(where, "label key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			c.fail(where, "label %s value %q: %s", k, v, msg)
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		c.pods = append(c.pods, podOwner{where, &o.Spec.Template})
		c.selector(where, o.Spec.Selector, o.Spec.Template.Labels)
	case *appsv1.StatefulSet:
		c.pods = append(c.pods, podOwner{where, &o.Spec.Template})
		c.selector(where, o.Spec.Selector, o.Spec.Template.Labels)
	case *appsv1.DaemonSet:
		c.pods = append(c.pods, podOwner{where, &o.Spec.Template})
		c.selector(where, o.Spec.Selector, o.Spec.Template.Labels)
	case *corev1.Service:
		c.services = append(c.services, o)
	}
}

func (c *checker) selector(where string, sel *metav1.LabelSelector, labels map[string]string) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || sel == nil || s.Empty() {
		c.fail(where, "spec.selector is missing or invalid: %v", err)
		return
	}
	if !s.Matches(labelSet(labels)) {
		c.fail(where, "spec.selector does not match the pod template's labels")
	}
}

type labelSet map[string]string

func (l labelSet) Has(k string) bool              { _, ok := l[k]; return ok }
func (l labelSet) Get(k string) string            { return l[k] }
func (l labelSet) Lookup(k string) (string, bool) { v, ok := l[k]; return v, ok }

// invariants: plutarc's rules for every pod, and that Services reach named ports that exist.
func (c *checker) invariants() {
	for _, p := range c.pods {
		spec := &p.tmpl.Spec
		volumes := map[string]bool{}
		for _, v := range spec.Volumes {
			volumes[v.Name] = true
		}
		podNonRoot := spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot
		for _, ct := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			where := fmt.Sprintf("%s container %s", p.where, ct.Name)
			if ct.Image == "" || strings.HasSuffix(ct.Image, ":latest") || !strings.Contains(ct.Image, ":") {
				c.fail(where, "image %q has no pinned tag", ct.Image)
			}
			ports := map[string]bool{}
			for _, port := range ct.Ports {
				if port.Name != "" {
					ports[port.Name] = true
				}
			}
			for _, pr := range []struct {
				kind  string
				probe *corev1.Probe
			}{{"livenessProbe", ct.LivenessProbe}, {"readinessProbe", ct.ReadinessProbe}} {
				kind, probe := pr.kind, pr.probe
				if probe == nil {
					c.fail(where, "no %s", kind)
					continue
				}
				if g := probe.HTTPGet; g != nil && g.Port.StrVal != "" && !ports[g.Port.StrVal] {
					c.fail(where, "%s uses port %q, which the container does not name", kind, g.Port.StrVal)
				}
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := ct.Resources.Limits[r]; !ok {
					c.fail(where, "no resources.limits.%s", r)
				}
				if _, ok := ct.Resources.Requests[r]; !ok {
					c.fail(where, "no resources.requests.%s", r)
				}
			}
			sc := ct.SecurityContext
			nonRoot := podNonRoot
			if sc != nil && sc.RunAsNonRoot != nil {
				nonRoot = *sc.RunAsNonRoot
			}
			if !nonRoot {
				c.fail(where, "runAsNonRoot is not true")
			}
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				c.fail(where, "readOnlyRootFilesystem is not true")
			}
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				c.fail(where, "allowPrivilegeEscalation is not false")
			}
			env := map[string]bool{}
			for _, e := range ct.Env {
				if env[e.Name] {
					c.fail(where, "env %s is set twice (the last one wins, silently)", e.Name)
				}
				env[e.Name] = true
			}
			for _, m := range ct.VolumeMounts {
				if !volumes[m.Name] {
					c.fail(where, "mounts volume %q, which the pod does not have", m.Name)
				}
			}
		}
	}
	for _, svc := range c.services {
		where := "Service/" + svc.Name
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		var matched []*corev1.PodTemplateSpec
		for _, p := range c.pods {
			if labelsMatch(svc.Spec.Selector, p.tmpl.Labels) {
				matched = append(matched, p.tmpl)
			}
		}
		if len(matched) == 0 {
			c.fail(where, "its selector matches no pod template")
			continue
		}
		for _, sp := range svc.Spec.Ports {
			name := sp.TargetPort.StrVal
			if name == "" {
				continue
			}
			for _, t := range matched {
				if !namesPort(t, name) {
					c.fail(where, "targetPort %q is not a port the pods name", name)
				}
			}
		}
	}
}

func labelsMatch(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func namesPort(t *corev1.PodTemplateSpec, name string) bool {
	for _, ct := range t.Spec.Containers {
		for _, p := range ct.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func run(args []string, stdin io.Reader, out, errOut io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(errOut, "usage: validate FILE... (- for standard input)")
		return 2
	}
	c := &checker{scheme: newScheme(), kinds: map[string]int{}}
	total := 0
	for _, name := range args {
		var r io.Reader = stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(errOut, "validate:", err)
				return 2
			}
			defer f.Close()
			r = f
		}
		docs, err := split(name, r)
		if err != nil {
			fmt.Fprintln(errOut, "validate:", err)
			return 2
		}
		total += len(docs)
		for _, d := range docs {
			c.document(d)
		}
	}
	if total == 0 {
		c.errs = append(c.errs, "no documents")
	}
	c.invariants()
	if len(c.errs) > 0 {
		for _, e := range c.errs {
			fmt.Fprintln(errOut, "invalid:", e)
		}
		fmt.Fprintf(errOut, "validate: %d error(s) in %d document(s)\n", len(c.errs), total)
		return 1
	}
	var kinds []string
	for k, n := range c.kinds {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	fmt.Fprintf(out, "validate: %d document(s) valid: %s\n", total, strings.Join(kinds, ", "))
	return 0
}

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
