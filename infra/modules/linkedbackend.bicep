@description('Name of the Static Web App.')
param staticWebAppName string

@description('Resource ID of the function app serving /api.')
param functionAppId string

@description('Region of the function app.')
param functionAppLocation string

resource site 'Microsoft.Web/staticSites@2024-04-01' existing = {
  name: staticWebAppName
}

resource backend 'Microsoft.Web/staticSites/linkedBackends@2024-04-01' = {
  parent: site
  name: 'api'
  properties: {
    backendResourceId: functionAppId
    region: functionAppLocation
  }
}

@description('Name of the linked backend.')
output name string = backend.name

@description('Resource ID of the linked backend.')
output resourceId string = backend.id
