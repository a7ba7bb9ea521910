import { createApp } from 'vue';
import { webFormsPlugin } from '@getodk/web-forms';
import App from './App.vue';
import './ferry.css';

const app = createApp(App);
app.use(webFormsPlugin);
app.mount('#app');

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/collect/sw.js', { scope: '/collect/' }).catch((error) => {
    console.warn('service worker not registered', error);
  });
}
