@description('Name of the key vault (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the vault.')
param location string

@description('Tags for the resource.')
param tags object = {}

@description('Enabled or Disabled. Disabled needs a private endpoint and a virtual-network-integrated function app.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Resource ID of the Log Analytics workspace that receives the audit log.')
param workspaceId string

@description('Principal ID of the function app\'s managed identity, granted Key Vault Secrets Officer (it creates each organisation\'s writeback signing key).')
param principalId string

@description('Key that signs SMS join links (secret join-link-key), written on the vault\'s first provision only. Empty writes nothing.')
@secure()
param joinLinkKey string = ''

@description('Key under which STOP numbers are hashed (secret opt-out-key), written on the vault\'s first provision only and never rotated: a new key forgets every opt-out. Empty writes nothing.')
@secure()
param optOutKey string = ''

@description('The vault an earlier provision made (azd\'s KEY_VAULT_NAME output). When it is this vault, its keys exist: a provision never overwrites them, so links already texted keep working and opt-outs hold.')
param provisionedName string = ''

// The keys are written when this vault is new to the caller: azd's environment has no KEY_VAULT_NAME before the
// first successful provision, and that provision's outputs put it there.
var firstProvision = provisionedName != name

// Key Vault Secrets Officer: read secrets, and write each organisation's writeback signing key
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: Public network access is a documented parameter (publicNetworkAccess); with Disabled the firewall denies all.
  // checkov:skip=CKV_AZURE_189: Public network access is a documented parameter (publicNetworkAccess).
  // checkov:skip=CKV2_AZURE_32: Private endpoints come with publicNetworkAccess=Disabled, which needs the organisation's virtual network.
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
  }
}

// Every access to the vault (AuditEvent: who read or wrote which secret, never its value), to Log Analytics
resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [
      { category: 'AuditEvent', enabled: true }
    ]
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}

resource joinLinkSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (firstProvision && !empty(joinLinkKey)) {
  // checkov:skip=CKV_AZURE_114: contentType is set (text/plain); checkov does not read conditional resources' properties.
  // checkov:skip=CKV_AZURE_41: The join-link key is rotated by make rotate-join-link-key (current and previous); a fixed expiry would stop every link at once.
  parent: vault
  name: 'join-link-key'
  properties: {
    value: joinLinkKey
    contentType: 'text/plain'
  }
}

resource optOutSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (firstProvision && !empty(optOutKey)) {
  // checkov:skip=CKV_AZURE_114: contentType is set (text/plain); checkov does not read conditional resources' properties.
  // checkov:skip=CKV_AZURE_41: The opt-out key must never change (a new key forgets every STOP), so it has no expiry.
  parent: vault
  name: 'opt-out-key'
  properties: {
    value: optOutKey
    contentType: 'text/plain'
  }
}

// Key Vault Secrets Officer
resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
  }
}

@description('Name of the key vault.')
output name string = vault.name

@description('Resource ID of the key vault.')
output resourceId string = vault.id

@description('URI of the key vault, for KEY_VAULT_URL.')
output uri string = vault.properties.vaultUri
