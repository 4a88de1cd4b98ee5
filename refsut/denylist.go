package refsut

import "fmt"

// destructive are the upstream tool names muster refuses to call unless started with
// --yolo (docs/muster-contract.md §3.3): operations that change clusters, releases or
// incidents. The names are matched against the upstream's own tool name.
var destructive = map[string]bool{
	"apply_kubernetes_manifest": true, "delete_kubernetes_resource": true,
	"kubectl_apply": true, "kubectl_create": true, "kubectl_delete": true, "kubectl_patch": true,
	"kubectl_rollout": true, "kubectl_scale": true,
	"capi_create_cluster": true, "capi_create_machinedeployment": true, "capi_delete_cluster": true,
	"capi_delete_machine": true, "capi_move_cluster": true, "capi_pause_cluster": true,
	"capi_remediate_machine": true, "capi_resume_cluster": true, "capi_scale_cluster": true,
	"capi_scale_machinedeployment": true, "capi_update_cluster": true, "capi_upgrade_cluster": true,
	"install_helm_chart": true, "uninstall_helm_chart": true, "upgrade_helm_chart": true,
	"reconcile_flux_helmrelease": true, "reconcile_flux_kustomization": true,
	"reconcile_flux_resourceset": true, "reconcile_flux_source": true,
	"resume_flux_reconciliation": true, "suspend_flux_reconciliation": true,
	"cleanup": true, "create_incident": true, "update_dashboard": true,
}

// blocked is the error muster answers a destructive tool call with, or nil when the call
// may go ahead.
func (a *Aggregator) blocked(upstreamTool string) error {
	if a.yolo || !destructive[upstreamTool] {
		return nil
	}
	a.log.Warn("Blocked destructive tool call (enable --yolo to allow)", "tool", upstreamTool, "subsystem", "aggregator")
	return fmt.Errorf("tool '%s' is blocked as it is destructive. Use --yolo flag to allow destructive operations", upstreamTool)
}
