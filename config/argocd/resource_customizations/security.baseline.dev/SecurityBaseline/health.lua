-- Argo CD health check for security.baseline.dev/v1alpha1 SecurityBaseline.
--
-- The status is kstatus (https://github.com/kubernetes-sigs/cli-utils/blob/master/pkg/kstatus/README.md),
-- read in kstatus' order: deletion, then status.observedGeneration (defaulted to -1 by the CRD),
-- then the Reconciling and Stalled conditions (present only while True) in the order they
-- appear, then Ready. spec.suspend, which kstatus reads as Current, is reported as Suspended.
-- See "GitOps health" in docs/api-contract.md.
--
-- Written for argocd-cm without resource.customizations.useOpenLibs: it uses base functions
-- only (no string library).
local hs = {}

-- message of a condition, else its reason, else fallback.
local function describe(condition, fallback)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

local metadata = obj.metadata or {}
local spec = obj.spec or {}
local status = obj.status

if metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  if spec.deletionPolicy == "Orphan" then
    hs.message = "Being deleted: the finalizer releases the managed objects (deletionPolicy Orphan)"
  else
    hs.message = "Being deleted: the finalizer removes the managed objects and Pod Security labels"
  end
  return hs
end

if status == nil or status.observedGeneration == nil or
    (metadata.generation ~= nil and status.observedGeneration ~= metadata.generation) then
  hs.status = "Progressing"
  if metadata.generation ~= nil then
    hs.message = "Waiting for the operator to observe generation " .. tostring(metadata.generation)
  else
    hs.message = "Waiting for the operator to observe the baseline"
  end
  return hs
end

if spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Reconciliation is suspended (spec.suspend: true)"
  return hs
end

local ready = nil
if type(status.conditions) == "table" then
  for _, condition in ipairs(status.conditions) do
    if condition.type == "Reconciling" and condition.status == "True" then
      hs.status = "Progressing"
      hs.message = describe(condition, "Reconciling")
      return hs
    end
    if condition.type == "Stalled" and condition.status == "True" then
      hs.status = "Degraded"
      hs.message = describe(condition, "Stalled")
      return hs
    end
    if condition.type == "Ready" and ready == nil then
      ready = condition
    end
  end
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Every matched namespace is compliant")
  return hs
end
if ready ~= nil then
  -- Ready False or Unknown without Stalled or Reconciling: kstatus reads InProgress.
  hs.status = "Progressing"
  hs.message = describe(ready, "Not ready")
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for status"
return hs
