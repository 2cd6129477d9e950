@description('Name of the Static Web App that serves the admin portal (web/).')
param name string

@description('Region of the Static Web App (a region where Static Web Apps are offered).')
param location string

@description('Tags for the resource; azd finds it by its azd-service-name tag.')
param tags object = {}

resource site 'Microsoft.Web/staticSites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    // Standard: linked backends (the portal calls /api on the function app through the site).
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

@description('Name of the Static Web App.')
output name string = site.name

@description('Resource ID of the Static Web App.')
output resourceId string = site.id

@description('Default host name of the Static Web App.')
output defaultHostname string = site.properties.defaultHostname
