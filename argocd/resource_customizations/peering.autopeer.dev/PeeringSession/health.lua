-- Argo CD health of a peering.autopeer.dev PeeringSession (one BGP session).
--   Healthy      the Ready condition is True
--   Progressing  pending, approved or configured (waiting for a person, the router or BGP), a status not yet
--                written for this generation, or a deletion waiting for de-peering
--   Degraded     rejected, unestablished (not up within the time window) or down, with the condition's message
-- Argo CD runs custom checks with the base, table and os libraries only: no string library here.
local hs = { status = "Progressing", message = "Waiting for the operator to report on the session" }

local function condition(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

-- The message of the first condition that is not True, in the order given: it says what is wrong.
local function explanation(conditions, kinds)
  for _, kind in ipairs(kinds) do
    local c = condition(conditions, kind)
    if c ~= nil and c.status ~= "True" and c.message ~= nil and c.message ~= "" then
      return c.message
    end
  end
  return nil
end

local status = obj.status
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted: waiting for de-peering to finish"
  return hs
end
if status == nil then
  return hs
end
if obj.metadata.generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < obj.metadata.generation) then
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end

local conditions = status.conditions
local ready = condition(conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

local state = status.state
local why = explanation(conditions, { "Ready", "Established", "Configured", "Accepted", "Synced" })
if state == "rejected" or state == "unestablished" or state == "down" then
  hs.status = "Degraded"
  hs.message = why or status.stateReason or ("Session is " .. state)
  return hs
end
-- pending, approved, configured; or established by the peer's account while our router has not seen BGP up yet.
if state ~= nil then
  hs.message = why or ("Session is " .. state)
else
  hs.message = why or hs.message
end
-- Still progressing, but the last exchange with the peer failed (it is retried with backoff): show that too.
local synced = condition(conditions, "Synced")
if synced ~= nil and synced.status == "False" and synced.message ~= nil and synced.message ~= hs.message then
  hs.message = hs.message .. " (Synced: " .. synced.message .. ")"
end
return hs
