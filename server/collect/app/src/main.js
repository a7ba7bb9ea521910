import { createApp } from 'vue';
import { webFormsPlugin } from '@getodk/web-forms';
import App from './App.vue';
import { watchFormRoot } from './engine.js';
import './ferry.css';

const app = createApp(App);
app.use(webFormsPlugin);
watchFormRoot(app);
app.mount('#app');

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/collect/sw.js', { scope: '/collect/' }).catch((error) => {
    console.warn('service worker not registered', error);
  });
}
