-- Argo CD health of an Argo CD Application, for an app of apps: Argo CD 1.8 stopped assessing Applications,
-- so without this the root Application would not wait for the operator (sync wave -1) to be Healthy before
-- it syncs the peers (wave 1), whose PeeringRequests need the operator's CRDs and the running operator.
local hs = { status = "Progressing", message = "" }
if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
return hs
