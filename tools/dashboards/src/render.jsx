// Renders one Dashboard Studio definition view-only, the way Splunk Enterprise's dashboard page
// does: DashboardCore inside DashboardContextProvider (EnterpriseViewOnlyPreset) inside the
// Enterprise dark theme. The page that loads this bundle sets window.BOUNDARYFLOW_DEFINITION.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardCore } from '@splunk/dashboard-core';
import { DashboardContextProvider } from '@splunk/dashboard-context';
import EnterpriseViewOnlyPreset from '@splunk/dashboard-presets/EnterpriseViewOnlyPreset';
import SplunkThemeProvider from '@splunk/themes/SplunkThemeProvider';

const definition = window.BOUNDARYFLOW_DEFINITION;

function Page() {
    return (
        <SplunkThemeProvider family="enterprise" colorScheme="dark" density="comfortable">
            <DashboardContextProvider preset={EnterpriseViewOnlyPreset} initialDefinition={definition}>
                <DashboardCore width="100%" height="auto" />
            </DashboardContextProvider>
        </SplunkThemeProvider>
    );
}

createRoot(document.getElementById('root')).render(<Page />);
