-- Argo CD health of an Argo CD Application, for an app of apps: Argo CD 1.8 stopped assessing Applications,
-- so without this the root Application would not wait for one wave (the CRDs, then the operator) to be Healthy
-- before it syncs the next (the peers, whose PeeringRequests need the CRDs and a running operator).
local hs = { status = "Progressing", message = "" }
if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
return hs
