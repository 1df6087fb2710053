-- Argo CD health of a peering.autopeer.dev PeeringRequest (the sessions asked of one peer network).
--   Healthy      the Ready condition is True
--   Progressing  pending, requesting, waiting for approval, approved or requested (sessions being configured),
--                a status not yet written for this generation, or a deletion waiting for de-peering
--   Degraded     rejected (wholly or in part), expired (not established within the time window) or failed,
--                with the condition's message
-- Argo CD runs custom checks with the base, table and os libraries only: no string library here.
local hs = { status = "Progressing", message = "Waiting for the operator to report on the request" }

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

local degraded = { Rejected = true, PartiallyRejected = true, Expired = true, Failed = true }

local status = obj.status
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted: waiting for its sessions to be de-peered"
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

local phase = status.phase
local why = explanation(conditions, { "Accepted", "Ready", "Synced" })
if phase ~= nil and degraded[phase] then
  hs.status = "Degraded"
  hs.message = why or ("Request is " .. phase)
  -- Partly accepted: Accepted is True and only counts; the peer's reason is in the list of rejections.
  local first = status.rejected ~= nil and status.rejected[1] or nil
  if phase == "PartiallyRejected" and first ~= nil then
    local accepted = condition(conditions, "Accepted")
    local counts = (accepted ~= nil and accepted.message) or "some sessions were rejected"
    hs.message = counts .. "; rejected: " .. first.location .. " " .. first.localIp .. "-" .. first.peerIp .. ": " .. first.message
  end
  return hs
end
if phase ~= nil then
  hs.message = why or ("Request is " .. phase)
else
  hs.message = why or hs.message
end
-- Still progressing, but the last exchange with the peer failed (it is retried with backoff): show that too.
local synced = condition(conditions, "Synced")
if synced ~= nil and synced.status == "False" and synced.message ~= nil and synced.message ~= hs.message then
  hs.message = hs.message .. " (Synced: " .. synced.message .. ")"
end
return hs
