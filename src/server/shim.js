// fauxkey browser shim: placeholder (the browser helper replaces this file). Base URL: __FAUXKEY_BASE_URL__
